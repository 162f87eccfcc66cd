import { createCohere } from '@ai-sdk/cohere'
import { CohereRerank as LangChainCohereRerank } from '@langchain/cohere'
import { Document } from '@langchain/core/documents'
import { CohereRerank as LlamaIndexCohereRerank } from '@llamaindex/cohere'
import { TextNode } from '@llamaindex/core/schema'
import { rerank } from 'ai'
import { Cohere, CohereClient, CohereClientV2 } from 'cohere-ai'
import {
  Cohere as Cohere7,
  CohereClient as CohereClient7,
  CohereClientV2 as CohereClientV27,
} from 'cohere-ai-7'
import { describe, expect, it } from 'vitest'
import { expectAiSdkRanking, expectAiSdkUnauthorized } from './test-support/ai-sdk-checks'
import {
  apiKey,
  documents,
  expectSameRanking,
  query,
  servedModel,
  useServedModel,
} from './test-support/served-model'

// Cohere's own SDK (7 and 8, v1 and v2), and the three integrations built on it or on Cohere's wire format:
// LangChain, LlamaIndex and the AI SDK. Each one unchanged, pointed at the standalone server, sending the
// model name its docs show (answered through RERANKER_MODEL_ALIASES).

const served = useServedModel()

const clients = [
  { major: 8, V1: CohereClient, V2: CohereClientV2, Unauthorized: Cohere.UnauthorizedError },
  { major: 7, V1: CohereClient7, V2: CohereClientV27, Unauthorized: Cohere7.UnauthorizedError },
]

describe.each(clients)('cohere-ai $major', ({ V1, V2, Unauthorized }) => {
  it('v1 rerank: same ranking as the native route, topN, returnDocuments, the model name answered', async () => {
    const client = new V1({ token: apiKey, environment: served.url })
    const all = await client.rerank({ model: 'rerank-english-v3.0', query, documents })
    expectSameRanking(
      all.results.map((result) => ({ index: result.index, score: result.relevanceScore })),
      served.reference,
      documents.length,
    )
    expect(all.results.every((result) => result.document === undefined)).toBe(true)
    const top = await client.rerank({
      model: 'rerank-english-v3.0',
      query,
      documents,
      topN: 2,
      returnDocuments: true,
    })
    expectSameRanking(
      top.results.map((result) => ({ index: result.index, score: result.relevanceScore })),
      served.reference,
      2,
    )
    expect(top.results.map((result) => result.document?.text)).toEqual(
      served.reference.slice(0, 2).map((result) => documents[result.index]),
    )
    expect(top.meta?.billedUnits?.searchUnits).toBe(1)
  })

  it('v2 rerank: same ranking, topN', async () => {
    const client = new V2({ token: apiKey, environment: served.url })
    const top = await client.rerank({ model: 'rerank-v3.5', query, documents, topN: 3 })
    expectSameRanking(
      top.results.map((result) => ({ index: result.index, score: result.relevanceScore })),
      served.reference,
      3,
    )
  })

  it('a wrong key is its own UnauthorizedError (401), on v1 and v2', async () => {
    const v1 = new V1({ token: 'wrong', environment: served.url, maxRetries: 0 } as never)
    const v2 = new V2({ token: 'wrong', environment: served.url })
    for (const attempt of [
      v1.rerank({ model: 'rerank-english-v3.0', query, documents }),
      v2.rerank({ model: 'rerank-v3.5', query, documents }, { maxRetries: 0 }),
    ]) {
      const error = await attempt.catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(Unauthorized)
      expect((error as InstanceType<typeof Unauthorized>).statusCode).toBe(401)
    }
  })
})

describe('LangChain CohereRerank', () => {
  const reranker = (token: string) =>
    new LangChainCohereRerank({
      client: new CohereClient7({ token, environment: served.url }),
      model: 'rerank-english-v2.0',
      topN: 3,
    })

  it('rerank() and compressDocuments(): same ranking, topN, the documents with their scores', async () => {
    const ranked = await reranker(apiKey).rerank(documents, query)
    expectSameRanking(
      ranked.map((result) => ({ index: result.index, score: result.relevanceScore })),
      served.reference,
      3,
    )
    const compressed = await reranker(apiKey).compressDocuments(
      documents.map((text, index) => new Document({ pageContent: text, metadata: { index } })),
      query,
    )
    expectSameRanking(
      compressed.map((document) => ({
        index: document.metadata.index as number,
        score: document.metadata.relevanceScore as number,
      })),
      served.reference,
      3,
    )
    expect(compressed.map((document) => document.pageContent)).toEqual(
      served.reference.slice(0, 3).map((result) => documents[result.index]),
    )
  })

  it('a wrong key is the Cohere client 401 error', async () => {
    const error = await reranker('wrong')
      .rerank(documents, query)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(Cohere7.UnauthorizedError)
    expect((error as Cohere7.UnauthorizedError).statusCode).toBe(401)
  })
})

describe('LlamaIndex CohereRerank', () => {
  const nodes = () => documents.map((text, index) => ({ node: new TextNode({ text, id_: `doc-${index}` }) }))

  it('postprocessNodes with its default model: same ranking, topN, the nodes with their scores', async () => {
    // No model given: it sends its default, rerank-english-v2.0.
    const reranker = new LlamaIndexCohereRerank({ apiKey, baseUrl: served.url, topN: 4 })
    expect(reranker.model).toBe('rerank-english-v2.0')
    const ranked = await reranker.postprocessNodes(nodes(), query)
    expectSameRanking(
      ranked.map((scored) => ({ index: Number(scored.node.id_.slice('doc-'.length)), score: scored.score! })),
      served.reference,
      4,
    )
  })

  it('a wrong key is the Cohere client 401 error', async () => {
    const reranker = new LlamaIndexCohereRerank({ apiKey: 'wrong', baseUrl: served.url })
    const error = await reranker.postprocessNodes(nodes(), query).catch((caught: unknown) => caught)
    expect((error as { statusCode?: number }).statusCode).toBe(401)
    // @llamaindex/cohere brings its own cohere-ai 7 (7.14): its error class, with our JSON message as the body.
    expect((error as Error).constructor.name).toBe('UnauthorizedError')
    expect((error as { body?: unknown }).body).toEqual({ message: 'A valid API key is required' })
  })
})

describe('AI SDK rerank() with @ai-sdk/cohere', () => {
  // The provider posts `${baseURL}/rerank` in Cohere's v2 format (its default base is api.cohere.com/v2).
  const model = (key: string) =>
    createCohere({ apiKey: key, baseURL: `${served.url}/v2` }).reranking('rerank-v3.5')

  it('same ranking as the native route, topN, the reranked documents', async () => {
    // Cohere's provider reports the model id it was given.
    expect(await expectAiSdkRanking(model(apiKey), served.reference, 2)).toBe('rerank-v3.5')
  })

  it('a wrong key is an APICallError with status 401 and our message', () =>
    expectAiSdkUnauthorized(model('wrong')))

  it('the served model name is accepted as is', async () => {
    const model = createCohere({ apiKey, baseURL: `${served.url}/v2` }).reranking(servedModel)
    const top = await rerank({ model, query, documents, topN: 1 })
    expect(top.ranking[0]!.originalIndex).toBe(served.reference[0]!.index)
  })
})
