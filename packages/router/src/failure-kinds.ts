import type { RerankError } from '@rerank-kit/protocol'

// How the router reads a failed call, after LiteLLM's rules (see peers-and-pitfalls.md).

// An upstream's error status decides. An answer that came back 2xx but could not be read (a body that is not
// JSON) carries that 2xx as upstreamStatus; it is still the deployment's failure, so our own code's status
// (502 for upstream_error) decides instead, as for a body of the wrong shape.
const statusOf = (error: RerankError) =>
  error.upstreamStatus !== undefined && error.upstreamStatus >= 400 ? error.upstreamStatus : error.status

/** The request itself is at fault: no other deployment or group would answer it differently. */
export function isCallersFault(error: RerankError): boolean {
  return error.code === 'aborted' || error.code === 'invalid_request' || error.code === 'payload_too_large'
}

/** Worth another deployment of the group: server-side failures, timeouts, no connection, 408 and 429. */
export function isWorthRetrying(error: RerankError): boolean {
  if (error.code === 'aborted') return false
  if (error.code === 'timeout' || error.code === 'network_error') return true
  const status = statusOf(error)
  return status >= 500 || status === 408 || status === 429
}

/** Counts against the deployment (and may cool it down): 429, 401, 404, 408, 5xx, timeouts, no connection. */
export function countsAgainstDeployment(error: RerankError): boolean {
  if (error.code === 'timeout' || error.code === 'network_error') return true
  const status = statusOf(error)
  return status >= 500 || status === 401 || status === 404 || status === 408 || status === 429
}
