import { backoffDelayMs, failedBeforeSending, type RerankError } from '@rerank-kit/protocol'
import type { RetryOptions } from './client-options'

/**
 * How long to wait before retrying a failed POST, or undefined to give up. A rerank POST is resent only when
 * the server surely did not process it (the connection never opened) or asked for a retry (429, 503):
 * timeouts, resets and 5xx may have done the work already, and doing it twice costs the caller twice.
 */
export function retryDelayMs(
  error: RerankError,
  retriesSoFar: number,
  policy: Required<RetryOptions>,
  random: () => number = Math.random,
): number | undefined {
  if (retriesSoFar >= policy.limit || !error.retryable) return undefined
  const askedToRetry = error.upstreamStatus === 429 || error.upstreamStatus === 503
  const neverSent = error.code === 'network_error' && failedBeforeSending(error.cause)
  if (!askedToRetry && !neverSent) return undefined
  if (error.retryAfterMs !== undefined) {
    return error.retryAfterMs <= policy.maxRetryAfterMs ? error.retryAfterMs : undefined
  }
  return backoffDelayMs(retriesSoFar, { baseMs: policy.backoffMs, maxMs: policy.maxBackoffMs }, random)
}
