/**
 * A circuit breaker around Redis calls, for `FallbackState`:
 *
 * - closed: calls go to Redis, each bounded by `timeoutMs`. `failureThreshold` failures in a row open it; a
 *   timed-out call opens it at once (see `redisBreakerDefaults`).
 * - open: no Redis call at all for `openMs`; the caller serves from memory.
 * - half-open: the first caller after `openMs` gets to probe (one call, or a short sequence of them); success
 *   closes the breaker, failure opens it for another `openMs`. Everyone else keeps serving from memory.
 *
 * So the served mode (Redis or memory) changes at most twice per outage, and a cycle memory -> Redis takes at
 * least `openMs`: a Redis that comes and goes never makes the router flap faster than once per period.
 * Results of calls that started before the last transition are ignored: a straggler cannot close or reopen
 * a breaker that has moved on.
 */

export type RedisBreakerState = 'closed' | 'open' | 'half-open'

export interface RedisBreakerOptions {
  /** Failed calls in a row (refused, disconnected, an error reply) that open the breaker; default 3. */
  failureThreshold?: number
  /** How long an open breaker makes no Redis call at all before it lets one probe through; default 5 s. */
  openMs?: number
  /** The longest a Redis call may take; past it the call counts as failed (and opens the breaker); default 200 ms. */
  timeoutMs?: number
  /** The breaker's clock (epoch ms); default `Date.now`. Timeouts use real timers whatever the clock. */
  now?: () => number
  /** Closed -> open: serving from memory from now on. Called once per outage, with the error that tripped it. */
  onOpen?: (reason: unknown) => void
  /** Half-open -> closed: back on Redis. Called once per outage, with when it went to memory (epoch ms). */
  onClose?: (openedAt: number) => void
}

/**
 * Why these defaults:
 * - `failureThreshold` 3: with no offline queue a dead connection fails every command at once, so three errors
 *   in a row cost no latency (under load they take microseconds), while one stray error — a single bad reply,
 *   a connection reset that the client re-establishes at once — does not put this instance on per-instance
 *   limits for a whole period.
 * - `timeoutMs` 200: a healthy Redis answers in well under a millisecond on a LAN (its slow log starts at
 *   10 ms); 200 ms is far beyond that and still small beside a rerank call. A timeout trips the breaker at
 *   once rather than counting to the threshold: a request makes up to three state calls in sequence (read,
 *   take, then the writes after the call), and against a stalled Redis each would wait the full timeout.
 *   Tripping at once is what bounds a request's delay by one timeout.
 * - `openMs` 5 s: long enough that a Redis being restarted (seconds) is probed a handful of times rather than
 *   hammered, short enough that limits go back to being shared soon after it returns. A failed probe costs one
 *   call per period and no request waits for it.
 */
export const redisBreakerDefaults = { failureThreshold: 3, openMs: 5_000, timeoutMs: 200 } as const

/**
 * A Redis call that took longer than the breaker's timeout. Its message is ioredis's own for a command
 * timeout, so logs read the same whichever of the two timed out first.
 */
export class RedisTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super('Command timed out')
    this.name = 'RedisTimeoutError'
  }
}

/** Thrown by `call` when the breaker is not closed: the caller serves from memory. */
export class RedisBreakerOpenError extends Error {
  constructor() {
    super('redis breaker is open')
    this.name = 'RedisBreakerOpenError'
  }
}

/**
 * `work` or, once `timeoutMs` has passed, a `RedisTimeoutError`. The work itself is not cancelled (a Redis
 * command already sent cannot be); its late result or rejection is dropped.
 *
 * The timeout is decided one I/O turn late: after an event loop stall (a long GC, a large synchronous parse)
 * Node runs due timers before it reads the sockets, so a reply already waiting in the socket would otherwise
 * lose to its own timeout. `setImmediate` runs after that read.
 */
export function withTimeout<T>(work: () => Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      setImmediate(() => reject(new RedisTimeoutError(timeoutMs)))
    }, timeoutMs)
    let running: Promise<T>
    try {
      running = work()
    } catch (error) {
      running = Promise.reject(error)
    }
    running.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

export interface RedisBreakerSnapshot {
  state: RedisBreakerState
  /** When it entered this state (epoch ms). */
  since: number
  /** While not closed: when it last left Redis for memory (the start of this outage). */
  memorySince?: number
  /** While open: when the next probe may go (epoch ms). */
  probeAt?: number
  /** Times the served mode changed (Redis -> memory and memory -> Redis each count one). */
  switches: number
  /** Failed calls in a row while closed. */
  failures: number
}

export class RedisBreaker {
  readonly failureThreshold: number
  readonly openMs: number
  readonly timeoutMs: number
  private readonly now: () => number
  private readonly onOpen: (reason: unknown) => void
  private readonly onClose: (openedAt: number) => void
  private current: RedisBreakerState = 'closed'
  private enteredAt: number
  private memorySince: number | undefined
  private openUntil = 0
  private failures = 0
  private switches = 0
  /** Bumped on every transition: a call's result only counts in the state it started in. */
  private epoch = 0

  constructor(options: RedisBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? redisBreakerDefaults.failureThreshold
    this.openMs = options.openMs ?? redisBreakerDefaults.openMs
    this.timeoutMs = options.timeoutMs ?? redisBreakerDefaults.timeoutMs
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new RangeError(
        `failureThreshold must be a whole number of at least 1, not ${this.failureThreshold}`,
      )
    }
    for (const [name, value] of [
      ['openMs', this.openMs],
      ['timeoutMs', this.timeoutMs],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be above 0, not ${value}`)
    }
    this.now = options.now ?? Date.now
    this.onOpen = options.onOpen ?? (() => {})
    this.onClose = options.onClose ?? (() => {})
    this.enteredAt = this.now()
  }

  get state(): RedisBreakerState {
    return this.current
  }

  /** Whether calls go to Redis now (closed). */
  get admits(): boolean {
    return this.current === 'closed'
  }

  snapshot(): RedisBreakerSnapshot {
    return {
      state: this.current,
      since: this.enteredAt,
      ...(this.memorySince === undefined ? {} : { memorySince: this.memorySince }),
      ...(this.current === 'open' ? { probeAt: this.openUntil } : {}),
      switches: this.switches,
      failures: this.failures,
    }
  }

  /**
   * A Redis call while closed, bounded by the timeout, its outcome counted. Rejects with the call's error (or
   * a `RedisTimeoutError`), or at once with `RedisBreakerOpenError` when the breaker is not closed.
   */
  async call<T>(command: () => Promise<T>): Promise<T> {
    if (this.current !== 'closed') throw new RedisBreakerOpenError()
    const epoch = this.epoch
    try {
      const value = await withTimeout(command, this.timeoutMs)
      if (epoch === this.epoch) this.failures = 0
      return value
    } catch (error) {
      if (epoch === this.epoch) {
        this.failures++
        if (error instanceof RedisTimeoutError || this.failures >= this.failureThreshold) this.trip(error)
      }
      throw error
    }
  }

  /** Opens a closed breaker at once, whatever the count (a first connection that failed, a timeout). */
  trip(reason: unknown): void {
    if (this.current !== 'closed') return
    this.memorySince = this.now()
    this.switches++
    this.enter('open')
    this.onOpen(reason)
  }

  /**
   * In an open breaker whose period is over: moves it to half-open and returns true, to exactly one caller,
   * who then probes (`probe`) and reports with `probeSucceeded` or `probeFailed`. False otherwise.
   */
  claimProbe(): boolean {
    if (this.current !== 'open' || this.now() < this.openUntil) return false
    this.enter('half-open')
    return true
  }

  /** A call made by the prober while half-open: bounded by the timeout, counted by the prober's report. */
  probe<T>(command: () => Promise<T>): Promise<T> {
    if (this.current !== 'half-open') return Promise.reject(new RedisBreakerOpenError())
    return withTimeout(command, this.timeoutMs)
  }

  /** The probe went through: back on Redis. */
  probeSucceeded(): void {
    if (this.current !== 'half-open') return
    const openedAt = this.memorySince ?? this.enteredAt
    this.memorySince = undefined
    this.switches++
    this.enter('closed')
    this.onClose(openedAt)
  }

  /** The probe failed: open for another period, still on memory (not a switch, nothing logged). */
  probeFailed(): void {
    if (this.current !== 'half-open') return
    this.enter('open')
  }

  private enter(state: RedisBreakerState) {
    this.current = state
    this.enteredAt = this.now()
    this.epoch++
    this.failures = 0
    if (state === 'open') this.openUntil = this.enteredAt + this.openMs
  }
}
