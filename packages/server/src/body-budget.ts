import { RerankError } from '@rerank-kit/protocol'

/**
 * The bytes of request bodies a server holds at once, across all requests: each body's share is taken before
 * it is read (its declared length, or chunk by chunk when none is declared) and given back once its answer is
 * sent. Past the budget a body is not read and the request gets 503 + Retry-After, so a crowd of large uploads
 * cannot take the process's memory, whatever the per-request limit.
 */
export class BodyBudget {
  private used = 0

  constructor(readonly maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new TypeError(`maxBodyBytesInFlight must be an integer >= 1 (got ${maxBytes})`)
    }
  }

  /** Bytes taken now. */
  get inUse(): number {
    return this.used
  }

  /** Takes `bytes`, or throws `overloaded` (503, Retry-After 1 s) when they do not fit. */
  take(bytes: number): void {
    if (this.used + bytes > this.maxBytes) {
      throw new RerankError(
        'overloaded',
        `The server is reading ${this.maxBytes} bytes of request bodies already, retry later`,
        { retryAfterMs: 1000 },
      )
    }
    this.used += bytes
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes)
  }
}
