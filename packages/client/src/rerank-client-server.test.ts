import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import type { RerankError, RerankResponse } from '@rerank-kit/protocol'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { rerank } from 'ai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rerankingModel } from './ai-sdk'
import type { ClientFormatName } from './client-options'
import { RerankClient } from './rerank-client'

// The client against our own server (every route family) in front of a real LocalReranker on a fixture
// model: the scores that come back equal the in-process ones, and the server's errors come back as ours.

const model = join(import.meta.dirname, '../../../fixtures/models/tiny-bert-reranker')
const query = 'what causes the seasons on earth'
const documents = [
  'The tilt of the earth axis causes the seasons.',
  'Bananas are a good source of potassium.',
  'In summer the sun is higher in the sky.',
  'Seasons change because the earth is tilted.',
]

async function serve(apiKeys?: string[]) {
  const server = createServer(
    createNodeListener(createRerankHandler({ reranker, ...(apiKeys ? { apiKeys } : {}) })),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

let reranker: LocalReranker
let server: Awaited<ReturnType<typeof serve>>
let local: RerankResponse

beforeAll(async () => {
  reranker = await LocalReranker.create({ models: [{ model, name: 'tiny-bert', workers: 1 }] })
  server = await serve()
  local = await reranker.rerank({ query, documents })
})
afterAll(async () => {
  await server.close()
  await reranker.close()
})

const routes: { format: ClientFormatName; path?: string }[] = [
  { format: 'native' },
  { format: 'cohere' },
  { format: 'cohere-v2' },
  { format: 'jina', path: '/api/v1/rerank' },
  { format: 'jina' },
]

describe('RerankClient against a rerank-kit server', () => {
  it.each(routes)('$format $path: the same scores as in-process, sorted', async ({ format, path }) => {
    const client = new RerankClient({
      baseUrl: server.url,
      format,
      model: 'tiny-bert',
      ...(path ? { path } : {}),
    })
    const response = await client.rerank({ query, documents })
    expect(response.results.map(({ index, score }) => ({ index, score }))).toEqual(
      local.results.map(({ index, score }) => ({ index, score })),
    )
    // Absolute values: a real model's probabilities, strictly inside (0, 1) and not all equal.
    const scores = response.results.map((result) => result.score)
    for (const score of scores) expect(score > 0 && score < 1).toBe(true)
    expect(new Set(scores).size).toBe(documents.length)
  })

  it('applies topN and echoes object documents with their fields', async () => {
    const client = new RerankClient({ baseUrl: server.url, format: 'native' })
    const objects = documents.map((text, id) => ({ text, id }))
    const response = await client.rerank({ query, documents: objects, topN: 2, returnDocuments: true })
    expect(response.results).toEqual(
      local.results.slice(0, 2).map(({ index, score }) => ({ index, score, document: objects[index] })),
    )
    expect(response.model).toBe('tiny-bert')
  })

  it('sends the model the client was made for unless the request names one', async () => {
    const client = new RerankClient({ baseUrl: server.url, format: 'native', model: 'nope' })
    const failure = (await client.rerank({ query, documents }).catch((e) => e)) as RerankError
    // Our native body names the code, so the exact error is rebuilt on this side.
    expect(failure).toMatchObject({
      code: 'model_not_found',
      status: 404,
      upstreamStatus: 404,
      retryable: false,
    })
    expect(failure.message).toContain('tiny-bert')
    const named = await client.rerank({ query, documents, model: 'tiny-bert' })
    expect(named.results).toHaveLength(documents.length)
  })

  it('decodes the Cohere-shaped error of /v1/rerank', async () => {
    const client = new RerankClient({ baseUrl: server.url, format: 'cohere' })
    const failure = (await client.rerank({ query, documents, topN: 0 }).catch((e) => e)) as RerankError
    // topN 0 never reaches the server's parser: the wire field is checked there, so the server must refuse it.
    expect(failure).toMatchObject({ code: 'invalid_request', status: 400, upstreamStatus: 400 })
    expect(failure.message).toMatch(/top_n/)
  })

  it('cohere-v2 refuses to send a request without a model', async () => {
    const client = new RerankClient({ baseUrl: server.url, format: 'cohere-v2' })
    await expect(client.rerank({ query, documents })).rejects.toMatchObject({
      code: 'invalid_request',
      param: 'model',
    })
  })

  it('sends the API key as a bearer token', async () => {
    const guarded = await serve(['secret-key'])
    try {
      const anonymous = new RerankClient({ baseUrl: guarded.url, format: 'cohere' })
      await expect(anonymous.rerank({ query, documents })).rejects.toMatchObject({
        code: 'unauthorized',
        status: 401,
      })
      const keyed = new RerankClient({ baseUrl: guarded.url, format: 'cohere', apiKey: 'secret-key' })
      expect((await keyed.rerank({ query, documents })).results[0]).toEqual(
        expect.objectContaining({ index: local.results[0]!.index }),
      )
    } finally {
      await guarded.close()
    }
  })

  it('an aborted call rejects with aborted', async () => {
    const client = new RerankClient({ baseUrl: server.url, format: 'native' })
    await expect(client.rerank({ query, documents }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'aborted',
    })
  })
})

describe('the AI SDK through RerankClient', () => {
  it("rerank() of ai gets the model's scores from our server", async () => {
    const client = new RerankClient({ baseUrl: server.url, format: 'cohere' })
    const { ranking, rerankedDocuments } = await rerank({
      model: rerankingModel(client, { modelId: 'tiny-bert' }),
      query,
      documents,
      topN: 2,
      maxRetries: 0,
    })
    expect(ranking).toEqual(
      local.results
        .slice(0, 2)
        .map(({ index, score }) => ({ originalIndex: index, score, document: documents[index] })),
    )
    expect(rerankedDocuments).toEqual(local.results.slice(0, 2).map(({ index }) => documents[index]))
  })

  it('an unknown model surfaces as an APICallError carrying our error', async () => {
    const client = new RerankClient({ baseUrl: server.url, format: 'native' })
    const failure = await rerank({
      model: rerankingModel(client, { modelId: 'nope' }),
      query,
      documents,
      maxRetries: 0,
    }).then(
      () => expect.unreachable('an unknown model must fail'),
      (error: unknown) => error as { statusCode: number; isRetryable: boolean; cause: RerankError },
    )
    expect(failure).toMatchObject({ statusCode: 404, isRetryable: false })
    expect(failure.cause).toMatchObject({ code: 'model_not_found' })
  })
})
