import { createServer } from 'node:http'
import { CohereRerank } from '@langchain/cohere'
import { Document } from '@langchain/core/documents'
import { CohereClient, CohereClientV2 } from 'cohere-ai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import { createNodeListener } from './node-http'
import type { MountedApp } from './test-support/adapter-spec'
import { listening } from './test-support/listening'
import { OverlapReranker } from './test-support/overlap-reranker'

// Real clients, unchanged, pointed at our server: the cohere-ai SDK (v1 and v2 rerank) and LangChain's
// CohereRerank. They parse our answers with their own schemas, so any drift from Cohere's format fails here.

const query = 'capital of France'
const documents = ['Berlin is the capital of Germany.', 'Paris is the capital of France.', 'Bananas.']

describe('real Cohere clients against our server', () => {
  let app: MountedApp
  const reranker = new OverlapReranker()
  beforeAll(async () => {
    app = await listening(
      createServer(createNodeListener(createRerankHandler({ reranker, apiKeys: ['co-key'] }))),
    )
  })
  afterAll(() => app.close())

  it('cohere-ai v1 rerank, with and without documents', async () => {
    const client = new CohereClient({ token: 'co-key', environment: app.url })
    const response = await client.rerank({ query, documents, topN: 2, returnDocuments: true })
    expect(
      response.results.map((result) => [result.index, result.relevanceScore, result.document?.text]),
    ).toEqual([
      [1, 1, documents[1]],
      [0, 2 / 3, documents[0]],
    ])
    expect(response.meta?.apiVersion?.version).toBe('1')
    expect(response.meta?.billedUnits?.searchUnits).toBe(1)
    const bare = await client.rerank({ query, documents })
    expect(bare.results[0]).toEqual({ index: 1, relevanceScore: 1 })
  })

  it('cohere-ai v2 rerank', async () => {
    const client = new CohereClientV2({ token: 'co-key', environment: app.url })
    const response = await client.rerank({ model: 'overlap', query, documents, topN: 1 })
    expect(response.results).toEqual([{ index: 1, relevanceScore: 1 }])
    expect(response.meta?.apiVersion?.version).toBe('2')
  })

  it('cohere-ai raises its own error types with our bodies', async () => {
    const wrongKey = new CohereClient({ token: 'nope', environment: app.url })
    const unauthorized = await wrongKey.rerank({ query, documents }).catch((error: unknown) => error)
    expect((unauthorized as { statusCode?: number }).statusCode).toBe(401)
    expect((unauthorized as { body?: unknown }).body).toEqual({ message: 'A valid API key is required' })
    const client = new CohereClient({ token: 'co-key', environment: app.url })
    const bad = await client.rerank({ query: '', documents }).catch((error: unknown) => error)
    expect((bad as { statusCode?: number }).statusCode).toBe(400)
    expect((bad as { body?: unknown }).body).toEqual({ message: 'Invalid request: query must not be empty' })
  })

  it("LangChain's CohereRerank: rerank() and compressDocuments()", async () => {
    const client = new CohereClient({ token: 'co-key', environment: app.url })
    const cohere = new CohereRerank({ client, model: 'overlap', topN: 2 })
    expect(await cohere.rerank(documents, query)).toEqual([
      { index: 1, relevanceScore: 1 },
      { index: 0, relevanceScore: 2 / 3 },
    ])
    const compressed = await cohere.compressDocuments(
      documents.map((pageContent) => new Document({ pageContent })),
      query,
    )
    expect(compressed.map((doc) => [doc.pageContent, doc.metadata.relevanceScore])).toEqual([
      [documents[1], 1],
      [documents[0], 2 / 3],
    ])
  })
})
