import type { Logger, Reranker, RerankRequestLimits } from '@rerank-kit/protocol'
import type { Registry } from 'prom-client'
import type { AuthFailureLimits } from './auth-failure-limit'
import type { KeyRateLimits } from './key-rate-limit'
import type { ModelNameOptions } from './model-names'
import type { RouteFamilyPrefixes } from './route-families'

/** A request as every framework can give it: already-parsed JSON, raw bytes, or text. */
export interface PlainRequest {
  method: string
  /** Path with an optional query string. */
  path: string
  /**
   * The part of the URL the host framework stripped before `path` (Express's `req.baseUrl`, Fastify's register
   * prefix): /docs and openapi.json show it in their paths, so their examples work as shown.
   */
  mountPath?: string
  headers: Readonly<Record<string, string | string[] | undefined>>
  body?: unknown
  /** The body could not be read (too large, broken stream): answered in the route family's error format. */
  bodyError?: unknown
  /** Fires when the client goes away: queued work for it is dropped. */
  signal?: AbortSignal
  /** The client's address (the socket's peer): failed API key attempts are counted per address. */
  remoteAddress?: string
  /** A per-request logger (Fastify's request.log); the handler's logger otherwise. */
  logger?: Logger
  /** Called once the answer is ready, so the adapter can let go of what the request held. */
  done?(): void
}

export interface PlainResponse {
  status: number
  headers: Record<string, string>
  /** A JSON value, or a string for text responses (content-type says which). */
  body: unknown
}

/** What the handler can read from a Reranker besides `rerank` (LocalReranker and Router provide these). */
export interface ServedReranker extends Reranker {
  readonly modelNames?: readonly string[]
  readonly isReady?: boolean
  /** True when the models could not load and never will: /ready says so (503 without Retry-After). */
  readonly loadFailed?: boolean
  /** True while the reranker refuses new work at once (its queue is full): /ready answers 503. */
  readonly isSaturated?: boolean
  /**
   * Why no request can be served now, if so (a router whose every deployment is cooling down or at its
   * limits, with no local fallback): /ready answers 503 with it. Ids and group names only, never a URL.
   */
  readonly unavailableReason?: string | undefined
  /** True for a model name the reranker serves without listing it in `modelNames` (a hidden alias). */
  servesModel?(name: string): boolean
  /** Sync or async: a router reads shared state (Redis) to answer. */
  stats?(): unknown
}

export interface RerankHandlerOptions extends ModelNameOptions {
  reranker: ServedReranker
  /** Mount point, e.g. `/reranker`; routes are relative to it. */
  prefix?: string
  /**
   * Where each API family is mounted, relative to `prefix` (`false`: not served). Defaults: native `/rerank`,
   * Cohere `/v1/rerank` and `/v2/rerank`, Jina `/api/v1/rerank`, Voyage `/voyage/v1/rerank`, mixedbread
   * `/v1/reranking`, TEI `/tei/rerank` and `/tei/info`. E.g. `{ tei: '', native: '/native' }` answers TEI
   * clients at `/rerank`.
   */
  routeFamilies?: RouteFamilyPrefixes
  /**
   * Accepted keys (`Authorization: Bearer <key>`, a bare key in `Authorization` as older SDKs send it, or
   * `x-api-key`); none means no auth. */
  apiKeys?: readonly string[]
  /** Routes reachable without a key, relative to the prefix. Default: `/health` and `/ready` (they reveal nothing). */
  publicRoutes?: readonly string[]
  /**
   * Off by default. A request budget per API key (429 + Retry-After past it); public routes and the monitoring
   * routes (`/health`, `/ready`, `/stats`, `/lb/stats`, `/metrics`) are not counted.
   */
  keyRateLimits?: KeyRateLimits
  /** Off by default. Wrong-key attempts allowed per remote address before it gets 429 for the rest of a window. */
  authFailureLimits?: AuthFailureLimits
  /** Body size (bytes) for raw bodies, plus per-request document and length limits. */
  limits?: RerankRequestLimits & { maxBodyBytes?: number }
  /** A request that takes longer is answered 504 and its queued work dropped. */
  requestTimeoutMs?: number
  /** Off by default. Allowed origins (`'*'` for any); preflight requests are answered without a key. */
  cors?: { origins: readonly string[] | '*'; maxAgeSeconds?: number }
  /**
   * The prom-client registry the handler's metrics go to, and what `/metrics` serves: pass the host app's (its
   * default `register`, say) to see ours beside its own at its endpoint. Default: a registry of its own.
   */
  metricsRegistry?: Registry
  /**
   * One `info` line per answered request (off by default): request id, method, route (never the query string),
   * status, duration in ms, and for a rerank answer the documents and tokens scored. No query or document text.
   */
  logRequests?: boolean
  logger?: Logger
  /**
   * Identical `request failed` lines (same code, path and cause) are logged once, then as one line with a
   * count per this interval (default 10 000 ms): a dead backend must not cost a line per request.
   */
  repeatedLogIntervalMs?: number
}
