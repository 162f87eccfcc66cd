import { createTogetherAI } from '@ai-sdk/togetherai'
import Mixedbread, { AuthenticationError } from '@mixedbread/sdk'
import { MixedbreadAIClient, MixedbreadAIError } from '@mixedbread-ai/sdk'
import { describe, expect, it } from 'vitest'
import { VoyageAIClient, VoyageAIError } from 'voyageai'
import { expectAiSdkRanking, expectAiSdkUnauthorized } from './test-support/ai-sdk-checks'
import {
  apiKey,
  documents,
  expectSameRanking,
  query,
  servedModel,
  useServedModel,
} from './test-support/served-model'

// The clients of the vendors whose formats are not Cohere's, unchanged, with only their base URL changed:
// Together (through the AI SDK) on /v1/rerank, Voyage on /voyage/v1/rerank, mixedbread (both SDKs) on
// /v1/reranking. Each sends its vendor's model name, answered through RERANKER_MODEL_ALIASES.

const served = useServedModel()

describe('AI SDK rerank() with @ai-sdk/togetherai', () => {
  // The provider posts `${baseURL}/rerank` and requires Together's usage fields in the answer.
  const model = (key: string) =>
    createTogetherAI({ apiKey: key, baseURL: `${served.url}/v1` }).reranking('Salesforce/Llama-Rank-v1')

  it('same ranking as the native route, topN, the reranked documents', async () => {
    const modelId = await expectAiSdkRanking(model(apiKey), served.reference, 3)
    // The answer names the model that ranked, not the alias the client sent.
    expect(modelId).toBe(servedModel)
  })

  it('a wrong key is an APICallError with status 401', () => expectAiSdkUnauthorized(model('wrong')))
})

describe('voyageai', () => {
  const client = (key: string) =>
    new VoyageAIClient({ apiKey: key, baseUrl: `${served.url}/voyage/v1`, maxRetries: 0 })

  it('same ranking as the native route, topK, returnDocuments as plain strings', async () => {
    const all = await client(apiKey).rerank({ query, documents, model: 'rerank-2' })
    expectSameRanking(
      all.data!.map((result) => ({ index: result.index!, score: result.relevanceScore! })),
      served.reference,
      documents.length,
    )
    expect(all.object).toBe('list')
    expect(all.data!.every((result) => result.document === undefined)).toBe(true)
    const top = await client(apiKey).rerank({
      query,
      documents,
      model: 'rerank-2',
      topK: 2,
      returnDocuments: true,
      truncation: true,
    })
    expectSameRanking(
      top.data!.map((result) => ({ index: result.index!, score: result.relevanceScore! })),
      served.reference,
      2,
    )
    expect(top.data!.map((result) => result.document)).toEqual(
      served.reference.slice(0, 2).map((result) => documents[result.index]),
    )
    expect(top.usage?.totalTokens).toBeGreaterThan(0)
  })

  it('a wrong key is its VoyageAIError with status 401', async () => {
    const error = await client('wrong')
      .rerank({ query, documents, model: 'rerank-2' })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(VoyageAIError)
    expect((error as VoyageAIError).statusCode).toBe(401)
  })
})

describe('@mixedbread/sdk', () => {
  const client = (key: string) => new Mixedbread({ apiKey: key, baseURL: served.url, maxRetries: 0 })

  it('same ranking as the native route, top_k, return_input', async () => {
    const all = await client(apiKey).rerank({
      model: 'mixedbread-ai/mxbai-rerank-large-v1',
      query,
      input: documents,
    })
    expectSameRanking(
      all.data.map((result) => ({ index: result.index, score: result.score })),
      served.reference,
      documents.length,
    )
    expect(all.top_k).toBe(documents.length)
    const top = await client(apiKey).rerank({
      model: 'mixedbread-ai/mxbai-rerank-large-v1',
      query,
      input: documents,
      top_k: 2,
      return_input: true,
    })
    expectSameRanking(
      top.data.map((result) => ({ index: result.index, score: result.score })),
      served.reference,
      2,
    )
    expect(top.data.map((result) => result.input)).toEqual(
      served.reference.slice(0, 2).map((result) => documents[result.index]),
    )
    expect([top.top_k, top.return_input, top.model]).toEqual([2, true, servedModel])
  })

  it('a wrong key is its AuthenticationError (401)', async () => {
    const error = await client('wrong')
      .rerank({ query, input: documents })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AuthenticationError)
    expect((error as AuthenticationError).status).toBe(401)
  })
})

describe('@mixedbread-ai/sdk (the older SDK: a bare key in Authorization)', () => {
  const client = (key: string) => new MixedbreadAIClient({ apiKey: key, environment: served.url })

  it('same ranking as the native route, topK, returnInput', async () => {
    const top = await client(apiKey).reranking(
      { model: 'mixedbread-ai/mxbai-rerank-large-v1', query, input: documents, topK: 3, returnInput: true },
      { maxRetries: 0 },
    )
    expectSameRanking(
      top.data.map((result) => ({ index: result.index, score: result.score })),
      served.reference,
      3,
    )
    expect(top.data.map((result) => result.input)).toEqual(
      served.reference.slice(0, 3).map((result) => documents[result.index]),
    )
    expect([top.topK, top.returnInput]).toEqual([3, true])
  })

  it('a wrong key is its MixedbreadAIError with status 401', async () => {
    const error = await client('wrong')
      .reranking({ query, input: documents }, { maxRetries: 0 })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(MixedbreadAIError)
    expect((error as MixedbreadAIError).statusCode).toBe(401)
  })
})
