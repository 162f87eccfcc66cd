/**
 * One error class for the whole stack. Every layer throws or normalises into it, every route family renders it
 * in its own body shape, and the HTTP status always comes from the one table below.
 */
export const rerankErrorCodes = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'model_not_found',
  'request_timeout',
  'payload_too_large',
  'rate_limited',
  'overloaded',
  'timeout',
  'aborted',
  'network_error',
  'upstream_error',
  'internal',
] as const

export type RerankErrorCode = (typeof rerankErrorCodes)[number]

interface CodeInfo {
  status: number
  retryable: boolean
  /** What a client is told when the message may carry internal details. */
  publicMessage?: string
}

/** The one code -> HTTP status table (and whether a retry can help). */
export const rerankErrorTable: Readonly<Record<RerankErrorCode, CodeInfo>> = {
  invalid_request: { status: 400, retryable: false },
  unauthorized: { status: 401, retryable: false },
  forbidden: { status: 403, retryable: false },
  not_found: { status: 404, retryable: false },
  // The route exists, not with this method (the answer's Allow header names those it takes).
  method_not_allowed: { status: 405, retryable: false },
  model_not_found: { status: 404, retryable: false },
  // The client did not send its request (its body) in time: sending it again, faster, can work.
  request_timeout: { status: 408, retryable: true },
  payload_too_large: { status: 413, retryable: false },
  rate_limited: { status: 429, retryable: true },
  overloaded: { status: 503, retryable: true },
  timeout: { status: 504, retryable: true },
  // 499 is nginx's "client closed request": nobody is left to read it, but logs and metrics stay honest.
  aborted: { status: 499, retryable: false },
  // No HTTP answer at all (refused, reset, DNS): a gateway that could not reach its upstream says 502.
  network_error: { status: 502, retryable: true, publicMessage: 'Could not reach an upstream reranker' },
  upstream_error: { status: 502, retryable: true, publicMessage: 'An upstream reranker failed' },
  internal: { status: 500, retryable: false, publicMessage: 'Internal server error' },
}

export function statusOfCode(code: RerankErrorCode): number {
  return rerankErrorTable[code].status
}

export function isRerankErrorCode(value: unknown): value is RerankErrorCode {
  return typeof value === 'string' && Object.hasOwn(rerankErrorTable, value)
}

export interface RerankErrorOptions {
  /** Override the table's default, e.g. a 500 from an upstream known to be deterministic. */
  retryable?: boolean
  /** How long the caller should wait before trying again (rendered as Retry-After). */
  retryAfterMs?: number
  /** The request field at fault, as a dotted path (`documents.3.text`). */
  param?: string
  /** The HTTP status an upstream answered with, when this error describes an upstream response. */
  upstreamStatus?: number
  /**
   * What a client is told instead of the code's generic text, for a message built to be safe (it names no
   * address, key or upstream text), e.g. the router's "deployment X failed".
   */
  publicMessage?: string
  /**
   * Data a client may be shown beside the public message, already safe to show (our own error body carries it
   * as `error.details`), e.g. a router's attempts: each deployment id, its failure and the vendor's redacted text.
   */
  publicDetails?: Readonly<Record<string, unknown>>
  cause?: unknown
}

const marker = Symbol.for('rerank-kit.RerankError')

export class RerankError extends Error {
  override readonly name = 'RerankError'
  readonly code: RerankErrorCode
  readonly status: number
  readonly retryable: boolean
  // `declare`: optional fields exist only when set, so errors serialise without `undefined` keys.
  declare readonly retryAfterMs?: number
  declare readonly param?: string
  declare readonly upstreamStatus?: number
  declare readonly publicDetails?: Readonly<Record<string, unknown>>
  readonly #publicMessage: string | undefined

  constructor(code: RerankErrorCode, message: string, options: RerankErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = rerankErrorTable[code].status
    this.retryable = options.retryable ?? rerankErrorTable[code].retryable
    const self = this as {
      -readonly [K in 'retryAfterMs' | 'param' | 'upstreamStatus' | 'publicDetails']?: RerankError[K]
    }
    if (options.retryAfterMs !== undefined) self.retryAfterMs = Math.max(0, Math.ceil(options.retryAfterMs))
    if (options.param !== undefined) self.param = options.param
    if (options.upstreamStatus !== undefined) self.upstreamStatus = options.upstreamStatus
    if (options.publicDetails !== undefined) self.publicDetails = options.publicDetails
    this.#publicMessage = options.publicMessage
    Object.defineProperty(this, marker, { value: true })
  }

  /** The message safe to send to a client: internal and upstream details never leave the process. */
  get publicMessage(): string {
    return this.#publicMessage ?? rerankErrorTable[this.code].publicMessage ?? this.message
  }

  /**
   * True for any RerankError, including one created by another copy of this package (two versions installed,
   * or CJS and ESM builds loaded side by side), where `instanceof` would say no.
   */
  static isInstance(value: unknown): value is RerankError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true
  }

  static fromUnknown(value: unknown): RerankError {
    return fromUnknown(value)
  }
}

export function isRetryable(value: unknown): boolean {
  return fromUnknown(value).retryable
}

// Error codes Node and undici put on connection failures: the request may not have reached the server.
const networkErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
])

/**
 * Failures before a connection existed: the server never saw the request, so even a POST can be resent.
 * (A reset or a socket error after connecting may come after the server started the work.)
 */
const connectErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
])

/** The system error code (ECONNREFUSED, ...) of a failure or of its causes, if any. */
export function systemErrorCode(value: unknown): string | undefined {
  for (let current = value, depth = 0; current && depth < 4; depth++) {
    const code = errorCodeOf(current)
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined
  }
  return undefined
}

/** True when a failure happened before any byte could reach the server (see `connectErrorCodes`). */
export function failedBeforeSending(value: unknown): boolean {
  const code = systemErrorCode(value)
  return code !== undefined && connectErrorCodes.has(code)
}

function errorCodeOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : undefined
}

/** Maps an HTTP status to our code: used for upstream answers and for framework errors carrying a status. */
export function codeFromStatus(status: number): RerankErrorCode {
  switch (status) {
    case 401:
      return 'unauthorized'
    case 403:
      return 'forbidden'
    case 404:
      return 'not_found'
    case 405:
      return 'method_not_allowed'
    case 408:
      return 'request_timeout'
    case 504:
      return 'timeout'
    case 413:
      return 'payload_too_large'
    case 429:
      return 'rate_limited'
    case 499:
      return 'aborted'
    case 503:
      return 'overloaded'
    default:
      return status >= 500 ? 'upstream_error' : 'invalid_request'
  }
}

/**
 * Normalises anything thrown into a RerankError. Unknown failures become `internal` with a generic message;
 * the original stays in `cause` for the logs.
 */
export function fromUnknown(value: unknown): RerankError {
  if (RerankError.isInstance(value)) return value
  if (value instanceof Error || (typeof value === 'object' && value !== null)) {
    const error = value as Error & { status?: unknown; statusCode?: unknown; expose?: unknown }
    if (error.name === 'TimeoutError')
      return new RerankError('timeout', 'The operation timed out', { cause: value })
    if (error.name === 'AbortError')
      return new RerankError('aborted', 'The request was aborted', { cause: value })
    if (error.name === 'ZodError')
      return new RerankError('invalid_request', 'Invalid request', { cause: value })
    const code = errorCodeOf(value) ?? errorCodeOf(error.cause)
    if (typeof code === 'string' && networkErrorCodes.has(code)) {
      return new RerankError('network_error', `Connection failed (${code})`, { cause: value })
    }
    // Errors of HTTP frameworks and body parsers (http-errors, Fastify, Koa) carry their status.
    const status = typeof error.status === 'number' ? error.status : error.statusCode
    if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599) {
      const mapped = codeFromStatus(status)
      // Only client errors flagged as safe to expose keep their text; the rest get the generic one.
      const message =
        status < 500 && error.expose !== false && typeof error.message === 'string' && error.message
          ? error.message
          : 'Request failed'
      return new RerankError(mapped, message, { cause: value })
    }
  }
  return new RerankError('internal', 'Internal error', { cause: value })
}
