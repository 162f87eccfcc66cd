import { failedBeforeSending, RerankError, type RerankError as RerankErrorType } from '@rerank-kit/protocol'
import type { RetryOptions } from './client-options'

/**
 * How long to wait before retrying a failed POST, or undefined to give up. A rerank POST is resent only when
 * the server surely did not process it (the connection never opened) or asked for a retry (429, 503):
 * timeouts, resets and 5xx may have done the work already, and doing it twice costs the caller twice.
 */
export function retryDelayMs(
  error: RerankErrorType,
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
  // Exponential with "equal jitter": at least half the step, so clients that failed together spread out.
  const step = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** retriesSoFar)
  return Math.round(step / 2 + (random() * step) / 2)
}

/** Waits, unless the caller aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new RerankError('aborted', 'The request was aborted'))
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(new RerankError('aborted', 'The request was aborted'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
