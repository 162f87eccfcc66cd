import { fromUnknown } from '@rerank-kit/protocol'

/**
 * LiteLLM's exception classes that its `RetryPolicy` and `AllowedFailsPolicy` name (`<Class>ErrorRetries`,
 * `<Class>ErrorAllowedFails`), as the router classifies a failed call.
 */
export type FailureClass =
  | 'badRequest'
  | 'authentication'
  | 'timeout'
  | 'rateLimit'
  | 'contentPolicy'
  | 'internalServer'

/**
 * Retries after a failure of this class, instead of `numRetries` (LiteLLM's `retry_policy`). A class named here
 * is retried even when the router would not retry it by default (a 400: LiteLLM's policy takes precedence over
 * its own "should retry" check); an abort never is.
 */
export type RetryPolicy = Partial<Record<FailureClass, number>>

/**
 * Failures a deployment may have in a minute, when the failure is of this class, before it cools down
 * (LiteLLM's `allowed_fails_policy`: "If AuthenticationErrorAllowedFails = 1000, then 1000 AuthenticationError
 * will be allowed before cooling down a deployment"). It replaces `allowedFails` and the immediate cooldown of
 * a 429 or 401 for that class.
 */
export type AllowedFailsPolicy = Partial<Record<FailureClass, number>>

export const failureClasses: readonly FailureClass[] = [
  'badRequest',
  'authentication',
  'timeout',
  'rateLimit',
  'contentPolicy',
  'internalServer',
]

/**
 * The class of a failure, or undefined when no policy class fits (an abort, a connection that failed, a 404
 * or redirect from a misconfigured deployment): `numRetries` and `allowedFails` apply to those.
 *
 * The upstream's HTTP status decides when there is one (our codes for upstream answers can hide it: a 401 the
 * router turned into `upstream_error` is still an authentication failure), else our code. `contentPolicy` is
 * accepted in policies for LiteLLM configs, but no rerank backend reports such a failure: nothing maps to it.
 * LiteLLM's 502 and 503 have classes of their own that its policies cannot name; here they are
 * `internalServer`, so a policy reaches every server-side failure.
 */
export function failureClassOf(error: unknown): FailureClass | undefined {
  const failure = fromUnknown(error)
  if (failure.code === 'aborted') return undefined
  const status = failure.upstreamStatus
  // A 2xx upstreamStatus is an answer that could not be read: the code says what went wrong.
  if (status !== undefined && status >= 300) return classOfStatus(status)
  return classOfCode[failure.code]
}

function classOfStatus(status: number): FailureClass | undefined {
  if (status === 401 || status === 403 || status === 407) return 'authentication'
  if (status === 408 || status === 504) return 'timeout'
  if (status === 429) return 'rateLimit'
  if (status >= 500) return 'internalServer'
  // A redirect, 404 or 405 says the deployment is misconfigured: LiteLLM's NotFoundError, no class here.
  if (status < 400 || status === 404 || status === 405) return undefined
  return 'badRequest'
}

const classOfCode: Readonly<Record<string, FailureClass | undefined>> = {
  invalid_request: 'badRequest',
  payload_too_large: 'badRequest',
  unauthorized: 'authentication',
  forbidden: 'authentication',
  request_timeout: 'timeout',
  timeout: 'timeout',
  rate_limited: 'rateLimit',
  overloaded: 'internalServer',
  upstream_error: 'internalServer',
  internal: 'internalServer',
}

/** The policy's number for this failure, if the policy names its class. */
export function policyValue(
  policy: Partial<Record<FailureClass, number>> | undefined,
  error: unknown,
): number | undefined {
  if (policy === undefined) return undefined
  const failureClass = failureClassOf(error)
  return failureClass === undefined ? undefined : policy[failureClass]
}
