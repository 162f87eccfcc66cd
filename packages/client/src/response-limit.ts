import { RerankError } from '@rerank-kit/protocol'

/**
 * How big a backend's answer may be. A rerank answer is small and its size follows from the request: a few
 * dozen bytes per result, plus the documents when they are echoed. A backend sending more (a bug, a proxy's
 * error page, a hostile server streaming gigabytes) would otherwise be read whole into memory (one such answer
 * took a router's RSS to 1.16 GB), so the read stops at the bound and the attempt fails.
 */
export const responseLimitDefaults = {
  /** Headroom for envelopes, ids and usage, whatever the request. */
  baseBytes: 1024 * 1024,
  /** Per document sent: index, score, and the format's field names, with room to spare. */
  perDocumentBytes: 1024,
  /** Per byte of the request body: an echo of the documents (escaped the same way), twice over. */
  perRequestByte: 2,
} as const

/** The default bound for an answer to a request of `documents` documents in a body of `requestChars`. */
export function defaultResponseLimit(documents: number, requestChars: number): number {
  const { baseBytes, perDocumentBytes, perRequestByte } = responseLimitDefaults
  // A char is at most 3 UTF-8 bytes: the echo of a non-ASCII document is bounded too.
  return baseBytes + documents * perDocumentBytes + requestChars * 3 * perRequestByte
}

/** The attempt's failure when an answer passes its bound: the deployment's fault, worth another one. */
export function responseTooLarge(limit: number): RerankError {
  return new RerankError('upstream_error', `The reranker's answer is larger than ${limit} bytes`)
}

/** `RequestInit` plus what `nodeHttpFetch` enforces itself (the platform fetch ignores both). */
export interface BoundedRequestInit extends RequestInit {
  /** The most bytes the answer may have: past it the read stops and the call fails (responseTooLarge). */
  maxResponseBytes?: number
  /**
   * Only for a fetch marked with `honoursDeadline`: the whole exchange's deadline, body included. Past it the
   * connection is destroyed and the call rejects with a `TimeoutError` DOMException (what a fetch given
   * `AbortSignal.timeout` rejects with).
   */
  timeoutMs?: number
}

/**
 * Marks a fetch that enforces `init.timeoutMs` itself (nodeHttpFetch). postJson then hands it the deadline
 * and the caller's signal as they are: combining them in an AbortController of its own cost a signal and two
 * listeners per call, a measurable part of a load-balancer server's work per request.
 */
export const honoursDeadline: unique symbol = Symbol('rerank-kit.honoursDeadline')

/** True when `fetch` enforces `init.timeoutMs` itself. */
export const fetchHonoursDeadline = (fetch: typeof globalThis.fetch): boolean =>
  (fetch as { [honoursDeadline]?: unknown })[honoursDeadline] === true

/**
 * The body as text, read no further than `limit` bytes: past it the stream is cancelled (the connection
 * closed) and responseTooLarge thrown. A declared Content-Length over the bound fails before reading.
 * Answers without a stream (nodeHttpFetch's, already bounded while it read) are read with text().
 */
export async function boundedText(response: Response, limit: number): Promise<string> {
  const length = response.headers.get('content-length')
  // Number(null) is 0: an absent header must not read as a declared length.
  const declared = length === null || length.trim() === '' ? Number.NaN : Number(length)
  const body = response.body
  if (declared > limit) {
    await body?.cancel().catch(() => {})
    throw responseTooLarge(limit)
  }
  if (!body || typeof body.getReader !== 'function') return response.text()
  // A declared length within the bound frames the body (HTTP/1.1 reads no further): text() is safe and
  // cheaper. Not when compressed: the length is then the compressed one.
  if (Number.isFinite(declared) && response.headers.get('content-encoding') === null) return response.text()
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let received = 0
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    received += value.byteLength
    if (received > limit) {
      await reader.cancel().catch(() => {})
      throw responseTooLarge(limit)
    }
    text += decoder.decode(value, { stream: true })
  }
  return text + decoder.decode()
}
