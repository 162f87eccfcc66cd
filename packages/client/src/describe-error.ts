import type { RerankError } from '@rerank-kit/protocol'

/**
 * One line for a person: the code, the HTTP status only when a server answered with one, and the message.
 * `error.status` is the status our own server would answer with for the code (502 for `network_error`), not
 * what this call received: a refused connection got no HTTP answer, and "HTTP 502" would say it did. The
 * message of a network error names its cause (`ECONNREFUSED`, `ENOTFOUND`...) instead.
 */
export function describeError(error: RerankError): string {
  const status = error.upstreamStatus === undefined ? '' : ` (HTTP ${error.upstreamStatus})`
  return `${error.code}${status}: ${error.message}`
}
