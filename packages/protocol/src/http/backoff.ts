import { RerankError } from '../errors/rerank-error'

/**
 * Exponential backoff with "equal jitter": at least half the step, so callers that failed together spread
 * out, and never more than `maxMs`. Shared by the client's retries and the router's re-picks.
 */
export function backoffDelayMs(
  retriesSoFar: number,
  policy: { baseMs: number; maxMs?: number },
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxMs ?? Number.POSITIVE_INFINITY, policy.baseMs * 2 ** retriesSoFar)
  return Math.round(step / 2 + (random() * step) / 2)
}

/** Waits, unless the caller aborts first (then rejects with an `aborted` RerankError). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
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
