import { RerankError, systemErrorCode } from '@rerank-kit/protocol'

// How the router reads a failed call, after LiteLLM's rules (see peers-and-pitfalls.md).

// An upstream's error status decides. An answer that came back 2xx but could not be read (a body that is not
// JSON) carries that 2xx as upstreamStatus; it is still the deployment's failure, so our own code's status
// (502 for upstream_error) decides instead, as for a body of the wrong shape. So does a misdirected answer the
// router turned into upstream_error (`asDeploymentFault`): its 401 is the deployment's fault, not the caller's.
const statusOf = (error: RerankError) =>
  error.code !== 'upstream_error' && error.upstreamStatus !== undefined && error.upstreamStatus >= 400
    ? error.upstreamStatus
    : error.status

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

/**
 * An answer that says the deployment is misconfigured, not that the request is wrong: a redirect (the
 * api_base moved), 401/403 (its key), 404 (its path or model), 407 (a proxy's credentials). Passed on as is it
 * would hand the caller the backend's status and text, which can echo the backend's key or URL.
 */
export function isMisdirected(error: RerankError): boolean {
  const status = error.upstreamStatus
  if (status === undefined || error.code === 'upstream_error') return false
  return (status >= 300 && status < 400) || [401, 403, 404, 407].includes(status)
}

/** Auth failures cool the deployment down at once (LiteLLM's rule for 401): its key will not start working. */
export function isAuthFailure(error: RerankError): boolean {
  return error.upstreamStatus === 401 || error.upstreamStatus === 403 || error.upstreamStatus === 407
}

/**
 * A misdirected answer as the deployment's failure: upstream_error (502 to the caller, retried elsewhere),
 * a message naming only the deployment and the status. The backend's text and the original error are left out.
 */
export function asDeploymentFault(error: RerankError, deploymentId: string): RerankError {
  return new RerankError(
    'upstream_error',
    `Deployment ${deploymentId} answered HTTP ${error.upstreamStatus}: misconfigured (its answer is not passed on)`,
    {
      upstreamStatus: error.upstreamStatus!,
      // The deployment id is the operator's label for it (never its address or key): enough to find the fault.
      publicMessage: `An upstream reranker failed (deployment ${deploymentId})`,
    },
  )
}

/**
 * A backend's 408 says the router was too slow sending it the request: for the router's caller that is an
 * upstream timeout (504 `timeout`), not a 408 of their own. It is read, counted (`failures.timeout`) and
 * retried as before 408 had a code of its own; the backend's status stays in `upstreamStatus`.
 */
export function asUpstreamTimeout(error: RerankError): RerankError {
  if (error.code !== 'request_timeout') return error
  return new RerankError('timeout', error.message, {
    ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }),
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    cause: error,
  })
}

/** What a log line says of a failure beyond its code: the HTTP status, or the system error (ECONNREFUSED...). */
export function failureDetail(error: RerankError): string {
  if (error.upstreamStatus !== undefined) return `HTTP ${error.upstreamStatus}`
  if (wrongAnswers.has(error)) return 'wrong answer'
  return systemErrorCode(error.cause) ?? ''
}

// The router's own verdicts on a 200 (checkAnswer's errors): known by identity, since their code and status are
// those of any upstream_error.
const wrongAnswers = new WeakSet<RerankError>()

/** Marks an error as the router's verdict that a deployment's answer did not match the request. */
export function markWrongAnswer(error: RerankError): RerankError {
  wrongAnswers.add(error)
  return error
}

/**
 * Whether the same deployment may answer differently if asked again (a retry that goes back to a deployment
 * already tried). A misconfigured deployment (redirect, 401, 403, 404, 407: `asDeploymentFault`) or one whose
 * answer did not match the request will fail the same way; a 5xx, 429, timeout or lost connection may not.
 */
export function mayPassOnRetry(error: RerankError): boolean {
  if (wrongAnswers.has(error)) return false
  const status = error.upstreamStatus
  if (error.code !== 'upstream_error' || status === undefined) return true
  return !((status >= 300 && status < 400) || [401, 403, 404, 407].includes(status))
}

/** The same error with another Retry-After (RerankError is immutable); the original stays as its cause. */
export function withRetryAfter(error: RerankError, retryAfterMs: number): RerankError {
  return new RerankError(error.code, error.message, {
    retryable: error.retryable,
    retryAfterMs,
    ...(error.param === undefined ? {} : { param: error.param }),
    ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }),
    cause: error,
  })
}
