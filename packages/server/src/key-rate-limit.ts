import { RerankError } from '@rerank-kit/protocol'
import { matchingKeyIndex, presentedKey } from './api-keys'
import type { RerankHandlerOptions } from './handler-types'

/** A request budget for each API key, counted separately per key (one key's traffic never spends another's). */
export interface KeyRateLimits {
  /** Requests each key may make per minute: a burst of up to this many, then refilled evenly over the minute. */
  requestsPerMinute: number
  /** Other budgets for some keys, by key (keys not listed get `requestsPerMinute`). */
  perKey?: Readonly<Record<string, number>>
}

type Headers = Readonly<Record<string, string | string[] | undefined>>

const minuteMs = 60_000

function checkedBudget(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number of requests per minute`)
  }
  return value
}

/**
 * One token bucket per configured key, in memory. Buckets are found by the key's position in the configured
 * list (matched in constant time), so the limiter never stores, compares or reports a key itself.
 */
export class KeyRateLimiter {
  private readonly budgets: number[]
  private readonly buckets: { tokens: number; updatedMs: number }[]

  constructor(
    private readonly keys: readonly string[],
    limits: KeyRateLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    const fallback = checkedBudget(limits.requestsPerMinute, 'keyRateLimits.requestsPerMinute')
    const perKey = limits.perKey ?? {}
    // Own entries only: a key spelled "constructor" or "__proto__" must not read Object.prototype.
    this.budgets = keys.map((key) =>
      Object.hasOwn(perKey, key) ? checkedBudget(perKey[key], 'a keyRateLimits.perKey budget') : fallback,
    )
    const start = now()
    this.buckets = this.budgets.map((budget) => ({ tokens: budget, updatedMs: start }))
  }

  /**
   * Spends one request of the budget of the key the headers present. Past the budget it throws
   * `rate_limited` (429) with the wait until one request is available again. A request that presents no
   * configured key is left alone: auth answers it, or the route is public.
   */
  take(headers: Headers): void {
    this.takeFor(matchingKeyIndex(presentedKey(headers), this.keys))
  }

  /** `take` for a key already matched (its position in the configured list; -1: none). */
  takeFor(index: number): void {
    if (index === -1) return
    const budget = this.budgets[index]!
    const bucket = this.buckets[index]!
    const now = this.now()
    const perMs = budget / minuteMs
    bucket.tokens = Math.min(budget, bucket.tokens + (now - bucket.updatedMs) * perMs)
    bucket.updatedMs = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return
    }
    throw new RerankError(
      'rate_limited',
      `Rate limit exceeded: this API key may make ${budget} requests per minute`,
      { retryAfterMs: Math.ceil((1 - bucket.tokens) / perMs) },
    )
  }
}

/** The limiter a handler's options ask for, or undefined when they set no `keyRateLimits` or no keys. */
export function keyRateLimiterOf(options: RerankHandlerOptions): KeyRateLimiter | undefined {
  const { keyRateLimits, apiKeys = [] } = options
  return keyRateLimits && apiKeys.length > 0 ? new KeyRateLimiter(apiKeys, keyRateLimits) : undefined
}
