import { APICallError, type RerankingModel, rerank } from 'ai'
import { expect } from 'vitest'
import { documents, expectSameRanking, query, type Ranked } from './served-model'

// The AI SDK checks, once for every provider: rerank() over the shared input against the native route's ranking.

/** All documents, then the top `topN` with their documents; returns the top call's answered model id. */
export async function expectAiSdkRanking(
  model: RerankingModel,
  reference: readonly Ranked[],
  topN: number,
): Promise<string> {
  const all = await rerank({ model, query, documents })
  expectSameRanking(
    all.ranking.map((result) => ({ index: result.originalIndex, score: result.score })),
    reference,
    documents.length,
  )
  const top = await rerank({ model, query, documents, topN })
  expectSameRanking(
    top.ranking.map((result) => ({ index: result.originalIndex, score: result.score })),
    reference,
    topN,
  )
  expect(top.rerankedDocuments).toEqual(reference.slice(0, topN).map((result) => documents[result.index]))
  return top.response.modelId
}

/** A model made with a wrong key: the SDK's own APICallError, status 401, our message in its body. */
export async function expectAiSdkUnauthorized(model: RerankingModel): Promise<void> {
  const error = await rerank({ model, query, documents, maxRetries: 0 }).catch((caught: unknown) => caught)
  expect(APICallError.isInstance(error)).toBe(true)
  expect((error as APICallError).statusCode).toBe(401)
  expect((error as APICallError).responseBody).toContain('A valid API key is required')
}
