import { RerankError, type RerankErrorCode } from '@rerank-kit/protocol'

/**
 * A RerankError answered with an HTTP status its code's row in the protocol's table does not have: the codes
 * are shared by clients and servers, and two answers only a server gives (405, 408) need no code of their own.
 * The body keeps the nearest code; `headers` go on the answer (405's Allow).
 */
export class StatusError extends RerankError {
  constructor(
    code: RerankErrorCode,
    message: string,
    status: number,
    readonly headers: Readonly<Record<string, string>> = {},
    cause?: unknown,
  ) {
    super(code, message, cause === undefined ? {} : { cause })
    ;(this as { status: number }).status = status
  }
}

/** 405 with the methods the route answers. */
export function methodNotAllowed(method: string, path: string, allowed: string): StatusError {
  return new StatusError('not_found', `Method ${method} is not allowed on ${path}; use ${allowed}`, 405, {
    allow: allowed,
  })
}

/**
 * The client did not send its body within the server's request timeout (node:http answers 408 and closes):
 * the client's fault, so it is counted as 408 and logged as a warning, never as a server error.
 */
export function bodyTimedOut(cause?: unknown): StatusError {
  return new StatusError('timeout', 'The request body was not received in time', 408, {}, cause)
}
