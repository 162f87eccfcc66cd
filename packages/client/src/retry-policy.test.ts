import { RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { retryPolicy } from './client-options'
import { retryDelayMs } from './retry-policy'

const policy = retryPolicy({ limit: 3, backoffMs: 100, maxBackoffMs: 1_000, maxRetryAfterMs: 5_000 })
const half = () => 0.5
const refused = new TypeError('fetch failed', {
  cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
})
const reset = new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })
const upstream = (status: number, retryAfterMs?: number) =>
  new RerankError(status === 429 ? 'rate_limited' : status === 503 ? 'overloaded' : 'upstream_error', 'x', {
    upstreamStatus: status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  })

describe('retryDelayMs: when a POST may be sent again', () => {
  it('retries what the server asked to retry, honouring Retry-After', () => {
    expect(retryDelayMs(upstream(429, 1_500), 0, policy, half)).toBe(1_500)
    expect(retryDelayMs(upstream(503, 0), 0, policy, half)).toBe(0)
    // No Retry-After: exponential backoff with equal jitter (half the step + up to half again).
    expect(retryDelayMs(upstream(429), 0, policy, half)).toBe(75)
    expect(retryDelayMs(upstream(429), 2, policy, half)).toBe(300)
    expect(retryDelayMs(upstream(429), 2, policy, () => 0)).toBe(200)
  })

  it('caps the backoff, and gives up on a Retry-After longer than allowed', () => {
    const long = retryPolicy({ limit: 10, backoffMs: 100, maxBackoffMs: 1_000 })
    expect(retryDelayMs(upstream(503), 8, long, () => 1)).toBe(1_000)
    expect(retryDelayMs(upstream(429, 60_000), 0, policy, half)).toBeUndefined()
  })

  it('retries a connection that never opened, not one that broke after sending', () => {
    const neverSent = new RerankError('network_error', 'x', { cause: refused })
    const maybeSent = new RerankError('network_error', 'x', { cause: reset })
    expect(retryDelayMs(neverSent, 0, policy, half)).toBe(75)
    expect(retryDelayMs(maybeSent, 0, policy, half)).toBeUndefined()
  })

  it('never retries timeouts, 5xx other than 503, or non-retryable errors', () => {
    expect(retryDelayMs(new RerankError('timeout', 'x'), 0, policy, half)).toBeUndefined()
    expect(retryDelayMs(upstream(502), 0, policy, half)).toBeUndefined()
    expect(retryDelayMs(upstream(500), 0, policy, half)).toBeUndefined()
    expect(
      retryDelayMs(new RerankError('invalid_request', 'x', { upstreamStatus: 400 }), 0, policy, half),
    ).toBeUndefined()
    expect(retryDelayMs(new RerankError('aborted', 'x'), 0, policy, half)).toBeUndefined()
    // A 429 explicitly marked non-retryable stays unretried.
    const marked = new RerankError('rate_limited', 'x', { upstreamStatus: 429, retryable: false })
    expect(retryDelayMs(marked, 0, policy, half)).toBeUndefined()
  })

  it('stops at the limit; retry: false and 0 mean never', () => {
    expect(retryDelayMs(upstream(429), 2, policy, half)).toBeDefined()
    expect(retryDelayMs(upstream(429), 3, policy, half)).toBeUndefined()
    expect(retryDelayMs(upstream(429), 0, retryPolicy(false), half)).toBeUndefined()
    expect(retryDelayMs(upstream(429), 0, retryPolicy(0), half)).toBeUndefined()
    expect(retryPolicy(undefined)).toEqual({
      limit: 2,
      backoffMs: 250,
      maxBackoffMs: 5_000,
      maxRetryAfterMs: 30_000,
    })
  })
})
