import {
  APICallError,
  InvalidArgumentError,
  type JSONObject,
  type RerankingModelV3,
  type RerankingModelV3CallOptions,
  type SharedV3Headers,
  type SharedV3ProviderMetadata,
} from '@ai-sdk/provider'
import {
  documentText,
  type RerankCallOptions,
  type RerankDocument,
  RerankError,
  type Reranker,
  type RerankRequest,
  type RerankResponse,
} from '@rerank-kit/protocol'
import * as z from 'zod'

export interface RerankingModelOptions {
  /**
   * Sent as the request's `model` and reported as the AI SDK's `modelId`. Absent: the reranker picks its
   * default model, and the AI SDK sees `'default'` until the response names the model actually used.
   */
  modelId?: string
  /** The AI SDK's provider id (telemetry, warnings). Default `'rerank-kit'`. */
  provider?: string
}

/** The `providerOptions` key this model reads, whatever `provider` says (renaming a label moves no options). */
export const providerOptionsKey = 'rerank-kit'

/**
 * What `providerOptions: { 'rerank-kit': ... }` may carry. A type, not an interface: only a type literal is
 * assignable to the AI SDK's `JSONObject` (interfaces have no implicit index signature).
 */
export type RerankKitProviderOptions = {
  /** Task instruction for decoder rerankers (Qwen3-Reranker, mxbai-rerank-v2). */
  instruction?: string
  /** Return raw logits instead of scores in [0, 1]. */
  rawScores?: boolean
  /** Split long documents into chunks of at most this many tokens; a document scores as its best chunk. */
  maxTokensPerDoc?: number
}

// Strict: a misspelt option (`maxTokensPerDocument`) fails loudly instead of being silently ignored.
const providerOptionsSchema: z.ZodType<RerankKitProviderOptions> = z.strictObject({
  instruction: z.string().optional(),
  rawScores: z.boolean().optional(),
  maxTokensPerDoc: z.number().int().positive().optional(),
})

/**
 * Per-call headers are not part of `Reranker` (most rerankers are not HTTP clients), so they travel as an
 * extra call option: a reranker that knows this option uses it, every other one ignores an unknown key.
 */
interface CallOptionsWithHeaders extends RerankCallOptions {
  headers?: SharedV3Headers
}

/**
 * A Vercel AI SDK reranking model (for `rerank()` of `ai`) backed by any rerank-kit `Reranker`: a
 * `RerankClient`, a local model, a router.
 *
 * Errors: a `RerankError` becomes an `APICallError` (so that `maxRetries` of `ai` retries exactly the
 * retryable ones) with `statusCode` its status, `data.code` its code and `cause` the RerankError itself. An
 * aborted call rejects with the reranker's `aborted` RerankError as is; anything else a reranker throws is
 * rethrown untouched.
 *
 * Per-call `headers` reach the reranker as a `headers` call option (the `Reranker` interface has none):
 * RerankClient sends them with that call; a reranker that is no HTTP client ignores them.
 */
export function rerankingModel(reranker: Reranker, options: RerankingModelOptions = {}): RerankingModelV3 {
  const modelId = options.modelId ?? 'default'
  return {
    specificationVersion: 'v3',
    provider: options.provider ?? 'rerank-kit',
    modelId,
    async doRerank(call: RerankingModelV3CallOptions) {
      const request = toRerankRequest(call, options.modelId)
      const callOptions: CallOptionsWithHeaders = {}
      if (call.abortSignal) callOptions.signal = call.abortSignal
      if (call.headers) callOptions.headers = call.headers
      let response: RerankResponse
      try {
        response = await reranker.rerank(request, callOptions)
      } catch (error) {
        throw RerankError.isInstance(error) ? toApiCallError(error, request) : error
      }
      return {
        // Already sorted best first (the Reranker contract): the AI SDK keeps this order.
        ranking: response.results.map(({ index, score }) => ({ index, relevanceScore: score })),
        ...providerMetadataOf(response),
        response: {
          ...(response.id === undefined ? {} : { id: response.id }),
          ...(response.model === undefined ? {} : { modelId: response.model }),
          body: response,
        },
      }
    },
  }
}

function toRerankRequest(call: RerankingModelV3CallOptions, model: string | undefined): RerankRequest {
  const extra = parseProviderOptions(call.providerOptions)
  const request: RerankRequest = {
    query: call.query,
    // `ai` tags the list by its first element only, so a mixed list can arrive as `text`: map each value.
    documents: (call.documents.values as Array<string | JSONObject>).map(toDocument),
    // `ai` maps the ranking back to its own documents by index: echoing them would only cost bandwidth.
    returnDocuments: false,
  }
  if (model !== undefined) request.model = model
  if (call.topN !== undefined) request.topN = call.topN
  if (extra.instruction !== undefined) request.instruction = extra.instruction
  if (extra.rawScores !== undefined) request.rawScores = extra.rawScores
  if (extra.maxTokensPerDoc !== undefined) request.maxTokensPerDoc = extra.maxTokensPerDoc
  return request
}

/**
 * An object with a string `text` is a rerank-kit object document as is: `text` is scored, the rest travels
 * along. An object without one would score as empty text (or be refused), so it is rendered to text here:
 * every field as a `field: value` line, the rendering `rankFields` uses (and Cohere recommends for structured
 * documents). Unlike `JSON.stringify`, it gives a cross-encoder prose-like text without quotes and braces,
 * and unlike sending `rankFields` it works with every reranker and wire format (all of them take strings).
 */
function toDocument(value: string | JSONObject): RerankDocument {
  if (typeof value === 'string') return value
  if (typeof value.text === 'string') return value
  return documentText(value, Object.keys(value))
}

function parseProviderOptions(providerOptions: RerankingModelV3CallOptions['providerOptions']) {
  const parsed = providerOptionsSchema.safeParse(providerOptions?.[providerOptionsKey] ?? {})
  if (parsed.success) return parsed.data
  // What `ai`'s own providers throw for bad provider options (their parseProviderOptions does the same).
  throw new InvalidArgumentError({
    argument: 'providerOptions',
    message: `Invalid providerOptions['${providerOptionsKey}']: ${z.prettifyError(parsed.error)}`,
    cause: parsed.error,
  })
}

function providerMetadataOf(response: RerankResponse): { providerMetadata?: SharedV3ProviderMetadata } {
  const { totalTokens, searchUnits } = response.usage ?? {}
  if (totalTokens === undefined && searchUnits === undefined) return {}
  const usage: JSONObject = {}
  if (totalTokens !== undefined) usage.totalTokens = totalTokens
  if (searchUnits !== undefined) usage.searchUnits = searchUnits
  return { providerMetadata: { [providerOptionsKey]: { usage } } }
}

/**
 * Why `APICallError` (and a runtime import of `@ai-sdk/provider`, acceptable in this optional entry only):
 * `ai` retries (`maxRetries`, default 2) only errors that are `APICallError.isInstance` with `isRetryable`;
 * a bare RerankError would never be retried, whatever its `retryable` says. The check uses a global symbol,
 * so it holds across duplicate copies of `@ai-sdk/provider`. Nothing is lost: the RerankError is the `cause`
 * (same instance), its code is in `data`, and `statusCode` is its status (the rerank-kit table's, consistent
 * with `code` and `isRetryable`; an upstream's own status is `data.upstreamStatus`).
 *
 * An abort is rethrown as is: it is the caller's decision, not a failed call (wrapping would invent a status
 * 499), and `ai` never retries it either way.
 */
function toApiCallError(error: RerankError, request: RerankRequest): Error {
  if (error.code === 'aborted') return error
  const data: JSONObject = { code: error.code }
  if (error.param !== undefined) data.param = error.param
  if (error.upstreamStatus !== undefined) data.upstreamStatus = error.upstreamStatus
  return new APICallError({
    message: error.message,
    // A Reranker may be in-process or hide its endpoint: there is no URL to report.
    url: '',
    requestBodyValues: request,
    statusCode: error.status,
    // `ai` waits `retry-after-ms` between retries (instead of its 2 s, 4 s, ... backoff) when a response
    // header says so: the server's Retry-After, already parsed into `retryAfterMs`, travels that way.
    ...(error.retryAfterMs === undefined
      ? {}
      : { responseHeaders: { 'retry-after-ms': String(error.retryAfterMs) } }),
    isRetryable: error.retryable,
    data,
    cause: error,
  })
}
