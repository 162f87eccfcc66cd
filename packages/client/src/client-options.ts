import {
  type DecoderTemplateName,
  type Logger,
  type RerankFormatName,
  rerankFormatNames,
} from '@rerank-kit/protocol'

/** Every wire format the client speaks: the rerank formats plus Infinity's /classify for decoder rerankers. */
export type ClientFormatName = RerankFormatName | 'infinity-classify'

/** Every client format, `infinity-classify` listed beside `infinity`. */
export const clientFormatNames: readonly ClientFormatName[] = rerankFormatNames.flatMap((name) =>
  name === 'infinity' ? [name, 'infinity-classify' as const] : [name],
)

export interface RetryOptions {
  /** Retries after the first attempt (default 2; 0 turns retries off). */
  limit?: number
  /** First backoff; doubles each retry, with jitter (default 250 ms). */
  backoffMs?: number
  /** Ceiling of the exponential backoff (default 5 s). */
  maxBackoffMs?: number
  /** A server asking to wait longer than this is not retried: its error (with `retryAfterMs`) is thrown (default 30 s). */
  maxRetryAfterMs?: number
}

export interface RerankClientOptions {
  /** Where the server lives: `http://host:port` or with a path prefix (`https://api.example.com/reranker`). */
  baseUrl: string
  format: ClientFormatName
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string
  /** Overrides the format's default path (e.g. `/api/v1/rerank` for a rerank-kit server's Jina route). */
  path?: string
  /** The model to ask for when a request names none (Cohere v2 and Infinity need one). */
  model?: string
  /** Per attempt, from sending to the end of the body (default 30 s). */
  timeoutMs?: number
  /** A number is the retry limit; `false` turns retries off. */
  retry?: number | false | RetryOptions
  headers?: Record<string, string>
  /** A fetch implementation (tests, proxies, edge runtimes); the global one by default. */
  fetch?: typeof globalThis.fetch
  /**
   * Most documents per HTTP call; bigger requests are split and merged. TEI: the server's
   * `max_client_batch_size` (default 32). infinity-classify: at most 2,048 (its limit).
   */
  maxBatchSize?: number
  /** infinity-classify: the decoder's prompt template (default: guessed from the model name). */
  template?: DecoderTemplateName
  /** infinity-classify: the task instruction when a request has none. */
  instruction?: string
  /**
   * infinity-classify: the prompt budget in characters. The classifier cuts long inputs from the right, which
   * would cut the template's suffix and silently give garbage scores, so documents are clipped to fit instead.
   * Default 2,000 (about 512 tokens of English); raise it to match the server's max length.
   */
  maxInputChars?: number
  /**
   * The most bytes an answer may have: reading stops there and the call fails (upstream_error). Default:
   * relative to the request (1 MiB, plus 1 KiB a document, plus room to echo the request's documents).
   */
  maxResponseBytes?: number
  logger?: Logger
}

export const clientDefaults = {
  timeoutMs: 30_000,
  teiMaxBatchSize: 32,
  maxInputChars: 2_000,
  retry: { limit: 2, backoffMs: 250, maxBackoffMs: 5_000, maxRetryAfterMs: 30_000 },
} as const

export function retryPolicy(retry: RerankClientOptions['retry']): Required<RetryOptions> {
  if (retry === false) return { ...clientDefaults.retry, limit: 0 }
  if (typeof retry === 'number') return { ...clientDefaults.retry, limit: retry }
  return { ...clientDefaults.retry, ...retry }
}
