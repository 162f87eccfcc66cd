/**
 * How a plain request from this package's Node translation (toPlainRequest) tells the handler that its client
 * went away without making an AbortSignal for it. The handler then makes one signal per rerank call, for the
 * disconnect and the deadline together: a request's own signal, a timeout signal and AbortSignal.any over the
 * two cost more than the rest of the handler's work on a proxied call (see BENCHMARKS.md, router).
 */
export const watchDisconnect: unique symbol = Symbol('rerank-kit.watchDisconnect')

export interface DisconnectWatch {
  /** Calls `gone` once if the client goes away before its answer was sent; at once if it already has. */
  [watchDisconnect](gone: () => void): void
}

/** The request's watch, if it has one (plain requests from other adapters have a `signal` instead). */
export function disconnectWatchOf(request: object): DisconnectWatch | undefined {
  return typeof (request as Partial<DisconnectWatch>)[watchDisconnect] === 'function'
    ? (request as DisconnectWatch)
    : undefined
}
