import { APICallError, InvalidArgumentError } from '@ai-sdk/provider'
import {
  documentText,
  type RerankCallOptions,
  RerankError,
  type Reranker,
  type RerankRequest,
  type RerankResponse,
  rankScores,
} from '@rerank-kit/protocol'
import { RetryError, rerank } from 'ai'
import { describe, expect, it } from 'vitest'
import { type RerankKitProviderOptions, rerankingModel } from './index'

const words = (text: string) => new Set(text.toLowerCase().match(/[a-z0-9]+/g) ?? [])

/** Share of the query's words found in the document: deterministic, in [0, 1], easy to compute by hand. */
function overlap(query: string, document: string): number {
  const queryWords = words(query)
  const documentWords = words(document)
  let shared = 0
  for (const word of queryWords) if (documentWords.has(word)) shared++
  return queryWords.size === 0 ? 0 : shared / queryWords.size
}

interface Call {
  request: RerankRequest
  options: (RerankCallOptions & { headers?: Record<string, string> }) | undefined
}

/** A Reranker that scores by word overlap and records what it was asked; `fail` can replace any attempt. */
class OverlapReranker implements Reranker {
  readonly calls: Call[] = []
  constructor(
    private readonly fail: (attempt: number) => unknown = () => undefined,
    private readonly extra: Partial<RerankResponse> = {},
  ) {}

  async rerank(request: RerankRequest, options?: RerankCallOptions): Promise<RerankResponse> {
    this.calls.push({ request, options })
    const failure = this.fail(this.calls.length)
    if (failure !== undefined) throw failure
    const scores = request.documents.map((document) => overlap(request.query, documentText(document)))
    return {
      ...(request.model === undefined ? {} : { model: request.model }),
      results: rankScores(request, scores),
      ...this.extra,
    }
  }
}

const query = 'red apple pie'
const documents = ['green apple', 'red apple pie recipe', 'banana bread', 'a red car']

describe('rerankingModel through ai rerank()', () => {
  it('returns the ranking best first with the reranker scores', async () => {
    const reranker = new OverlapReranker()
    const result = await rerank({
      model: rerankingModel(reranker, { modelId: 'my-model' }),
      query,
      documents,
      maxRetries: 0,
    })

    expect(result.ranking).toEqual([
      { originalIndex: 1, score: 1, document: 'red apple pie recipe' },
      { originalIndex: 0, score: 1 / 3, document: 'green apple' },
      { originalIndex: 3, score: 1 / 3, document: 'a red car' },
      { originalIndex: 2, score: 0, document: 'banana bread' },
    ])
    expect(result.response.modelId).toBe('my-model')
    expect(reranker.calls).toHaveLength(1)
    expect(reranker.calls[0]?.request).toEqual({
      query,
      documents,
      model: 'my-model',
      returnDocuments: false,
    })
  })

  it('reports the provider and model ids, and the response id and model of the reranker', async () => {
    const anonymous = rerankingModel(new OverlapReranker())
    expect([anonymous.specificationVersion, anonymous.provider, anonymous.modelId]).toEqual([
      'v3',
      'rerank-kit',
      'default',
    ])

    const reranker = new OverlapReranker(undefined, { id: 'resp-1', model: 'served-model' })
    const model = rerankingModel(reranker, { provider: 'my-gateway' })
    expect(model.provider).toBe('my-gateway')
    const result = await rerank({ model, query, documents, maxRetries: 0 })
    expect(result.response).toMatchObject({ id: 'resp-1', modelId: 'served-model' })
    // No modelId: the reranker's default model is used, so no model is asked for.
    expect(reranker.calls[0]?.request.model).toBeUndefined()
  })

  it('passes topN to the reranker and keeps only the best N', async () => {
    const reranker = new OverlapReranker()
    const { ranking } = await rerank({
      model: rerankingModel(reranker),
      query,
      documents,
      topN: 2,
      maxRetries: 0,
    })

    expect(ranking.map(({ originalIndex, score }) => [originalIndex, score])).toEqual([
      [1, 1],
      [0, 1 / 3],
    ])
    expect(reranker.calls[0]?.request.topN).toBe(2)
  })

  it('sends objects with a text as object documents and renders the others as field lines', async () => {
    const reranker = new OverlapReranker()
    const objects = [
      { text: 'banana bread', id: 1 },
      { title: 'Red apple', body: 'a pie', tags: ['dessert'] },
      { text: 'red apple tart', id: 3 },
    ]
    const { ranking } = await rerank({
      model: rerankingModel(reranker),
      query,
      documents: objects,
      maxRetries: 0,
    })

    expect(reranker.calls[0]?.request.documents).toEqual([
      { text: 'banana bread', id: 1 },
      'title: Red apple\nbody: a pie\ntags: ["dessert"]',
      { text: 'red apple tart', id: 3 },
    ])
    // The AI SDK hands back its own objects, untouched.
    expect(ranking).toEqual([
      { originalIndex: 1, score: 1, document: objects[1] },
      { originalIndex: 2, score: 2 / 3, document: objects[2] },
      { originalIndex: 0, score: 0, document: objects[0] },
    ])
  })

  it('maps the rerank-kit provider options onto the request', async () => {
    const reranker = new OverlapReranker()
    // Typed options must stay assignable to the AI SDK's JSONObject.
    const options: RerankKitProviderOptions = {
      instruction: 'Find dessert recipes',
      rawScores: true,
      maxTokensPerDoc: 256,
    }
    await rerank({
      model: rerankingModel(reranker),
      query,
      documents,
      providerOptions: { 'rerank-kit': options, other: { instruction: 'not for us' } },
      maxRetries: 0,
    })

    expect(reranker.calls[0]?.request).toMatchObject({
      instruction: 'Find dessert recipes',
      rawScores: true,
      maxTokensPerDoc: 256,
    })
  })

  it('refuses invalid provider options before calling the reranker', async () => {
    const reranker = new OverlapReranker()
    const call = rerank({
      model: rerankingModel(reranker),
      query,
      documents,
      providerOptions: { 'rerank-kit': { maxTokensPerDocument: 256 } },
      maxRetries: 2,
    })

    const error = await call.catch((caught: unknown) => caught)
    expect(InvalidArgumentError.isInstance(error)).toBe(true)
    expect((error as InvalidArgumentError).message).toContain('maxTokensPerDocument')
    expect(reranker.calls).toHaveLength(0)
  })

  it('passes the abort signal: aborting rejects the call with the aborted RerankError', async () => {
    let started!: () => void
    const running = new Promise<void>((resolve) => {
      started = resolve
    })
    let signalSeen: AbortSignal | undefined
    const reranker: Reranker = {
      rerank: (_request, options) =>
        new Promise((_resolve, reject) => {
          signalSeen = options?.signal
          options?.signal?.addEventListener('abort', () =>
            reject(new RerankError('aborted', 'The request was aborted', { cause: options.signal?.reason })),
          )
          started()
        }),
    }
    const controller = new AbortController()
    const call = rerank({
      model: rerankingModel(reranker),
      query,
      documents,
      abortSignal: controller.signal,
      maxRetries: 2,
    })
    await running
    controller.abort()

    const error = await call.catch((caught: unknown) => caught)
    expect(RerankError.isInstance(error)).toBe(true)
    expect((error as RerankError).code).toBe('aborted')
    expect(signalSeen?.aborted).toBe(true)
  })

  it('surfaces a RerankError as an APICallError carrying its status, code and retry advice', async () => {
    const overloaded = new RerankError('overloaded', 'Model busy', { retryAfterMs: 1500 })
    const reranker = new OverlapReranker(() => overloaded)
    const error = await rerank({ model: rerankingModel(reranker), query, documents, maxRetries: 0 }).catch(
      (caught: unknown) => caught,
    )

    expect(APICallError.isInstance(error)).toBe(true)
    const apiError = error as APICallError
    expect(apiError).toMatchObject({
      message: 'Model busy',
      statusCode: 503,
      isRetryable: true,
      data: { code: 'overloaded' },
      responseHeaders: { 'retry-after-ms': '1500' },
    })
    expect(apiError.cause).toBe(overloaded)
    expect(reranker.calls).toHaveLength(1)
  })

  it('lets ai retry a retryable error, waiting what the error asks', async () => {
    const reranker = new OverlapReranker((attempt) =>
      attempt <= 2 ? new RerankError('rate_limited', 'Slow down', { retryAfterMs: 0 }) : undefined,
    )
    const startedAt = Date.now()
    const { ranking } = await rerank({ model: rerankingModel(reranker), query, documents, maxRetries: 2 })

    expect(ranking[0]).toEqual({ originalIndex: 1, score: 1, document: 'red apple pie recipe' })
    expect(reranker.calls).toHaveLength(3)
    // retry-after-ms: 0 replaced ai's own backoff (2 s, then 4 s).
    expect(Date.now() - startedAt).toBeLessThan(1_500)
  })

  it('gives up after maxRetries retries of a retryable error', async () => {
    const reranker = new OverlapReranker(
      () => new RerankError('upstream_error', 'Upstream failed', { retryAfterMs: 0, upstreamStatus: 500 }),
    )
    const error = await rerank({ model: rerankingModel(reranker), query, documents, maxRetries: 2 }).catch(
      (caught: unknown) => caught,
    )

    expect(RetryError.isInstance(error)).toBe(true)
    expect((error as RetryError).reason).toBe('maxRetriesExceeded')
    expect((error as RetryError).lastError).toMatchObject({
      statusCode: 502,
      data: { code: 'upstream_error', upstreamStatus: 500 },
    })
    expect(reranker.calls).toHaveLength(3)
  })

  it('does not retry a non-retryable error', async () => {
    const invalid = new RerankError('invalid_request', 'query must not be empty', { param: 'query' })
    const reranker = new OverlapReranker(() => invalid)
    const error = await rerank({ model: rerankingModel(reranker), query, documents, maxRetries: 2 }).catch(
      (caught: unknown) => caught,
    )

    expect(APICallError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({
      statusCode: 400,
      isRetryable: false,
      data: { code: 'invalid_request', param: 'query' },
    })
    expect((error as APICallError).cause).toBe(invalid)
    expect(reranker.calls).toHaveLength(1)
  })

  it('rethrows anything else a reranker throws untouched, without retrying it', async () => {
    const bug = new TypeError('cannot read properties of undefined')
    const reranker = new OverlapReranker(() => bug)
    await expect(rerank({ model: rerankingModel(reranker), query, documents, maxRetries: 2 })).rejects.toBe(
      bug,
    )
    expect(reranker.calls).toHaveLength(1)
  })

  it('forwards per-call headers as a call option and usage as provider metadata', async () => {
    const reranker = new OverlapReranker(undefined, { usage: { totalTokens: 42, searchUnits: 1 } })
    const result = await rerank({
      model: rerankingModel(reranker),
      query,
      documents,
      headers: { 'x-request-id': 'abc' },
      maxRetries: 0,
    })

    expect(reranker.calls[0]?.options).toEqual({ headers: { 'x-request-id': 'abc' } })
    expect(result.providerMetadata).toEqual({ 'rerank-kit': { usage: { totalTokens: 42, searchUnits: 1 } } })
  })
})
