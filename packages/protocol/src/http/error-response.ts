import { codeFromStatus, isRerankErrorCode, RerankError, statusOfCode } from '../errors/rerank-error'
import { type HeaderLookup, parseRetryAfter, retryAfterSeconds } from './retry-after'

export interface HttpErrorResponse {
  status: number
  headers: Record<string, string>
  body: unknown
}

/**
 * The HTTP answer for an error: the status from the code table, Retry-After when the error carries a hint,
 * and the body in the route family's shape (pass `format.formatError`).
 */
export function errorResponse(
  error: RerankError,
  formatBody: (error: RerankError) => unknown,
): HttpErrorResponse {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' }
  if (error.retryAfterMs !== undefined) headers['retry-after'] = retryAfterSeconds(error.retryAfterMs)
  return { status: error.status, headers, body: formatBody(error) }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

/** The message of any family's error body: Cohere `message`, FastAPI `detail`, TEI `error`, OpenAI `error.message`. */
export function errorMessageOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() ? body.trim().slice(0, 500) : undefined
  const record = asRecord(body)
  if (!record) return undefined
  if (typeof record.message === 'string') return record.message
  if (typeof record.detail === 'string') return record.detail
  if (Array.isArray(record.detail)) {
    // FastAPI validation errors: [{loc, msg, type}]
    const messages = record.detail.map((item) => asRecord(item)?.msg).filter((msg) => typeof msg === 'string')
    if (messages.length > 0) return messages.join('; ')
  }
  if (typeof record.error === 'string') return record.error
  const nested = asRecord(record.error)
  if (nested && typeof nested.message === 'string') return nested.message
  return undefined
}

/**
 * Client side: any family's error answer as a RerankError. The code comes from our native body when the
 * server is one of ours, else from the status; `upstreamStatus` keeps the status for routing decisions.
 */
export function errorFromHttpResponse(
  status: number,
  body: unknown,
  header: HeaderLookup = () => undefined,
): RerankError {
  const nativeCode = asRecord(asRecord(body)?.error)?.code
  // Our own servers name the code; trust it only when it agrees with the status, and never pass an upstream's
  // `internal` through as ours.
  const trusted =
    isRerankErrorCode(nativeCode) && nativeCode !== 'internal' && statusOfCode(nativeCode) === status
  const code = trusted ? nativeCode : codeFromStatus(status)
  const message = errorMessageOf(body) ?? `The reranker answered HTTP ${status}`
  const param = asRecord(asRecord(body)?.error)?.param
  const retryAfterMs = parseRetryAfter(header)
  return new RerankError(code, message, {
    upstreamStatus: status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(typeof param === 'string' ? { param } : {}),
  })
}
