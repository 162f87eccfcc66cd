import { RerankError } from '@rerank-kit/protocol'

/** How many wrong-key attempts one remote address may make before it is refused (429) for a while. */
export interface AuthFailureLimits {
  /** Failed attempts allowed per address within a window; the next request of that address gets 429. */
  maxFailures: number
  /** The window, counted from an address's first failure; it is refused until the window ends. Default: 60 s. */
  windowMs?: number
  /** Addresses remembered at once (memory bound against many source addresses). Default: 10 000. */
  maxAddresses?: number
}

interface Window {
  failures: number
  endsMs: number
}

function checkedPositive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name} must be an integer >= 1`)
  }
  return value
}

/**
 * Failed API key attempts counted per remote address, in fixed windows, in memory. Past `maxFailures` the
 * address is refused before its key is even compared, whatever key it sends, until its window ends: a right
 * key guessed while refused would otherwise still get in, and the limit would slow no one. Requests with no
 * known address (a plain caller's) are not counted: one shared bucket would let one caller lock out all.
 */
export class AuthFailureLimiter {
  private readonly maxFailures: number
  private readonly windowMs: number
  private readonly maxAddresses: number
  private readonly windows = new Map<string, Window>()

  constructor(
    limits: AuthFailureLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.maxFailures = checkedPositive(limits.maxFailures, 'authFailureLimits.maxFailures')
    this.windowMs = checkedPositive(limits.windowMs ?? 60_000, 'authFailureLimits.windowMs')
    this.maxAddresses = checkedPositive(limits.maxAddresses ?? 10_000, 'authFailureLimits.maxAddresses')
  }

  /** Throws `rate_limited` (429, Retry-After: the rest of the window) while `address` is refused. */
  check(address: string | undefined): void {
    if (address === undefined) return
    const window = this.windows.get(address)
    if (window === undefined) return
    const left = window.endsMs - this.now()
    if (left <= 0) {
      this.windows.delete(address)
      return
    }
    if (window.failures >= this.maxFailures) {
      throw new RerankError(
        'rate_limited',
        'Too many failed API key attempts from this address, retry later',
        {
          retryAfterMs: left,
        },
      )
    }
  }

  /** Counts one wrong or missing key from `address`. */
  recordFailure(address: string | undefined): void {
    if (address === undefined) return
    const now = this.now()
    const window = this.windows.get(address)
    if (window !== undefined && window.endsMs > now) {
      window.failures++
      return
    }
    if (window === undefined && this.windows.size >= this.maxAddresses) this.evict(now)
    this.windows.set(address, { failures: 1, endsMs: now + this.windowMs })
  }

  /** Addresses remembered now (for tests and stats). */
  get size(): number {
    return this.windows.size
  }

  /** Drops ended windows; if none had ended, the oldest (a Map iterates in insertion order). */
  private evict(now: number): void {
    for (const [address, window] of this.windows) {
      if (window.endsMs <= now) this.windows.delete(address)
    }
    if (this.windows.size >= this.maxAddresses) {
      const oldest = this.windows.keys().next().value
      if (oldest !== undefined) this.windows.delete(oldest)
    }
  }
}
