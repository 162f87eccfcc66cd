import { type Logger, silentLogger } from '@rerank-kit/protocol'
import { MemoryState } from './memory-state'
import { RedisBreaker, redisBreakerDefaults } from './redis-breaker'
import type { MinuteCounter, RedisState } from './redis-state'
import { minuteOf, type RouterStateStore, type SharedDeploymentState, type StateStatus } from './router-state'

export interface FallbackStateOptions {
  redis: RedisState
  /** One warn when falling back to memory, one info when back on Redis (with what was written back). */
  logger?: Logger
  /** Failed Redis calls in a row that switch to memory (default 3); a timed-out call switches at once. */
  failureThreshold?: number
  /**
   * How long the store stays on memory, making no Redis call at all, before one probe of Redis; a failed
   * probe starts another such period (default 5 s).
   */
  openMs?: number
  /**
   * The longest a Redis call may take (default 200 ms). Past it the call counts as failed, the store switches
   * to memory and the caller is answered from memory at once: a request never waits longer for Redis.
   */
  timeoutMs?: number
  /** The earlier name of `openMs`, used when `openMs` is not given. */
  retryIntervalMs?: number
  /**
   * How long the first calls wait for the first connection before serving from memory (default 2 s), so
   * limits hold from the first request. The only wait longer than `timeoutMs`; `close()` ends it.
   */
  connectWaitMs?: number
}

type Counts = Record<MinuteCounter, number>

/** What this instance did to one deployment's state while Redis did not hear of it. */
interface Pending {
  minutes: Map<number, Counts>
  /** The latest cooldown end set meanwhile (absent when none, or a later recovery ended it). */
  coolingUntil?: number
  /** A recovery (half-open trial passed) meanwhile, at this time: replayed first. */
  recoveredAt?: number
}

const zero = (): Counts => ({ requests: 0, tokens: 0, outcomes: 0, failures: 0 })

/**
 * The writes that reached memory but not Redis (the breaker open, or a Redis call failed), per deployment:
 * the minute counters added, the latest cooldown, a recovery. Replayed into Redis when it is back, so the
 * shared limits and cooldowns see what this instance did during the outage.
 */
class OutageLedger {
  private pending = new Map<string, Pending>()

  get empty(): boolean {
    return this.pending.size === 0
  }

  request(id: string, now: number) {
    this.counts(id, now).requests++
  }

  tokens(id: string, tokens: number, now: number) {
    if (Number.isFinite(tokens) && tokens > 0) this.counts(id, now).tokens += tokens
  }

  outcome(id: string, failed: boolean, now: number) {
    const counts = this.counts(id, now)
    counts.outcomes++
    if (failed) counts.failures++
  }

  coolDown(id: string, until: number) {
    const entry = this.entry(id)
    entry.coolingUntil = Math.max(until, entry.coolingUntil ?? 0)
  }

  recover(id: string, now: number) {
    // As MemoryState.recover: the cooldown and the minute's outcomes and failures go.
    const entry = this.entry(id)
    entry.recoveredAt = now
    delete entry.coolingUntil
    const counts = entry.minutes.get(minuteOf(now))
    if (counts) Object.assign(counts, { outcomes: 0, failures: 0 })
  }

  /** Everything recorded so far, leaving the ledger empty. */
  take(): Map<string, Pending> {
    const taken = this.pending
    this.pending = new Map()
    return taken
  }

  /** Puts back a part that could not be written, as having happened before what was recorded since. */
  restore(id: string, older: Pending) {
    const newer = this.pending.get(id)
    this.pending.set(id, newer ? merged(older, newer) : older)
  }

  private entry(id: string): Pending {
    let entry = this.pending.get(id)
    if (!entry) {
      entry = { minutes: new Map() }
      this.pending.set(id, entry)
    }
    return entry
  }

  private counts(id: string, now: number): Counts {
    const minutes = this.entry(id).minutes
    const minute = minuteOf(now)
    // Older minutes' counters are of no use to anyone (their Redis keys expire two minutes on): a long outage
    // keeps two minutes per deployment at most.
    for (const kept of minutes.keys()) if (kept < minute - 1) minutes.delete(kept)
    let counts = minutes.get(minute)
    if (!counts) {
      counts = zero()
      minutes.set(minute, counts)
    }
    return counts
  }
}

/** `older` then `newer`, as one entry: a recovery in `newer` ends `older`'s cooldown and minute failures. */
function merged(older: Pending, newer: Pending): Pending {
  const recoveredMinute = newer.recoveredAt === undefined ? undefined : minuteOf(newer.recoveredAt)
  const minutes = new Map<number, Counts>()
  for (const [minute, counts] of older.minutes) {
    minutes.set(minute, minute === recoveredMinute ? { ...counts, outcomes: 0, failures: 0 } : { ...counts })
  }
  for (const [minute, counts] of newer.minutes) {
    const sum = minutes.get(minute) ?? zero()
    for (const counter of Object.keys(sum) as MinuteCounter[]) sum[counter] += counts[counter]
    minutes.set(minute, sum)
  }
  const coolingUntil =
    newer.recoveredAt !== undefined
      ? newer.coolingUntil
      : Math.max(older.coolingUntil ?? 0, newer.coolingUntil ?? 0) || undefined
  const recoveredAt = newer.recoveredAt ?? older.recoveredAt
  return {
    minutes,
    ...(coolingUntil === undefined ? {} : { coolingUntil }),
    ...(recoveredAt === undefined ? {} : { recoveredAt }),
  }
}

/** What a write-back put into Redis, for the "back on redis" log line. */
interface WrittenBack {
  deployments: number
  requests: number
  tokens: number
  failures: number
  cooldowns: number
}

/**
 * Router state in Redis while Redis answers, in this process's memory while it does not — a circuit breaker
 * (`RedisBreaker`) decides which. Every Redis call is bounded by `timeoutMs`; a failed or timed-out call never
 * fails the request, it is answered from memory. `failureThreshold` failures in a row (or one timeout) switch
 * the store to memory for `openMs`, with no Redis call at all; then one probe (a PING, then the write-back)
 * decides: success switches back to Redis, failure keeps memory for another period. So the store changes
 * mode at most once each way per outage, and never returns to Redis sooner than `openMs` after leaving it.
 *
 * Writes also go to memory while Redis serves, so on a fallback this instance still knows its own usage of
 * the minute and the cooldowns it set, instead of starting from zero; limits then hold per instance only.
 * What was written to memory alone is written back when Redis returns, before the store switches back:
 * counters are added to Redis's (so the limits see the outage's usage), cooldowns keep the later end, and a
 * recovery ends Redis's cooldown too. A call that timed out may still have reached Redis: its count can then
 * be written back a second time, the safe direction for a limit.
 */
export class FallbackState implements RouterStateStore {
  private readonly redis: RedisState
  private readonly memory = new MemoryState()
  private readonly ledger = new OutageLedger()
  private readonly logger: Logger
  private readonly breaker: RedisBreaker
  /** Until the first connection settles, calls wait for it: limits hold from the first request. */
  private connecting: Promise<void> | undefined
  private stopConnecting: () => void = () => {}
  private flushing = false
  private closed = false
  /** What the probe wrote back, for the log line that says the store is back on Redis. */
  private writtenBack: WrittenBack | undefined

  constructor(options: FallbackStateOptions) {
    this.redis = options.redis
    this.logger = options.logger ?? silentLogger
    this.breaker = new RedisBreaker({
      failureThreshold: options.failureThreshold ?? redisBreakerDefaults.failureThreshold,
      openMs: options.openMs ?? options.retryIntervalMs ?? redisBreakerDefaults.openMs,
      timeoutMs: options.timeoutMs ?? redisBreakerDefaults.timeoutMs,
      onOpen: (reason) => {
        this.logger.warn('router state: redis unreachable, serving from memory', {
          reason: this.redis.describe(reason),
        })
      },
      onClose: (openedAt) => {
        this.logger.info('router state: back on redis', {
          unreachableMs: Date.now() - openedAt,
          ...(this.writtenBack ? { writtenBack: this.writtenBack } : {}),
        })
      },
    })
    const stopped = new Promise<void>((resolve) => {
      this.stopConnecting = resolve
    })
    this.connecting = Promise.race([
      this.redis.ready(options.connectWaitMs ?? 2_000).then(
        () => {},
        (error: unknown) => {
          if (!this.closed) this.breaker.trip(error)
        },
      ),
      stopped,
    ]).then(() => {
      this.connecting = undefined
    })
  }

  status(): StateStatus {
    const breaker = this.breaker.snapshot()
    const stateBreaker = {
      state: breaker.state,
      since: new Date(breaker.since).toISOString(),
      ...(breaker.probeAt === undefined ? {} : { probeAt: new Date(breaker.probeAt).toISOString() }),
      switches: breaker.switches,
    }
    if (breaker.state === 'closed') return { state: 'redis', stateBreaker }
    const since = new Date(breaker.memorySince ?? breaker.since).toISOString()
    return {
      state: 'memory',
      stateNote: `redis unreachable since ${since}; serving from memory`,
      stateBreaker,
    }
  }

  async read(ids: readonly string[], now: number): Promise<Map<string, SharedDeploymentState>> {
    const answer = await this.tryRedis(() => this.redis.read(ids, now))
    return answer ? answer.value : this.memory.read(ids, now)
  }

  async takeRequest(id: string, limit: number | undefined, now: number): Promise<boolean> {
    const answer = await this.tryRedis(() => this.redis.takeRequest(id, limit, now))
    if (answer) {
      // Redis decided; memory only counts what this instance took.
      if (answer.value) await this.memory.takeRequest(id, undefined, now)
      return answer.value
    }
    const taken = await this.memory.takeRequest(id, limit, now)
    if (taken) this.ledger.request(id, now)
    return taken
  }

  async addTokens(id: string, tokens: number, now: number): Promise<void> {
    await this.memory.addTokens(id, tokens, now)
    if (!(await this.tryRedis(() => this.redis.addTokens(id, tokens, now))))
      this.ledger.tokens(id, tokens, now)
  }

  async recordOutcome(id: string, failed: boolean, now: number) {
    const local = await this.memory.recordOutcome(id, failed, now)
    const answer = await this.tryRedis(() => this.redis.recordOutcome(id, failed, now))
    if (answer) return answer.value
    this.ledger.outcome(id, failed, now)
    return local
  }

  async coolDown(id: string, until: number): Promise<void> {
    await this.memory.coolDown(id, until)
    if (!(await this.tryRedis(() => this.redis.coolDown(id, until)))) this.ledger.coolDown(id, until)
  }

  async recover(id: string, now: number): Promise<void> {
    await this.memory.recover(id, now)
    if (!(await this.tryRedis(() => this.redis.recover(id, now)))) this.ledger.recover(id, now)
  }

  /**
   * Returns at once: ends the wait for a first connection, and quits the Redis client this store's RedisState
   * created — waiting at most `timeoutMs` for QUIT when Redis is healthy, not at all during an outage.
   * Whatever the outage left unwritten is dropped.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.stopConnecting()
    const healthy = this.breaker.admits && this.redis.client.status === 'ready'
    await this.redis.close({ graceMs: healthy ? this.breaker.timeoutMs : 0 })
  }

  /**
   * The Redis call's answer, or undefined when the caller must serve from memory: the breaker is open (a
   * probe starts in the background once its period is over), the call failed, or it timed out.
   */
  private async tryRedis<T>(command: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.connecting) await this.connecting
    if (this.closed) return undefined
    if (!this.breaker.admits) {
      if (this.breaker.claimProbe()) void this.probe()
      return undefined
    }
    try {
      const value = await this.breaker.call(command)
      // Calls that failed while the breaker stayed closed left writes behind: catch up now Redis answers.
      if (!this.ledger.empty && !this.flushing) void this.flush()
      return { value }
    } catch {
      return undefined
    }
  }

  /** Half-open: PING, write back the outage, then back on Redis; any failure opens for another period. */
  private async probe() {
    const probe = <T>(command: () => Promise<T>) => this.breaker.probe(command)
    try {
      await probe(() => this.redis.ping())
      // Calls served from memory while this runs land in the ledger again: the next flush writes them.
      this.writtenBack = await this.writeBack(this.ledger.take(), probe)
      if (this.closed) return
      this.breaker.probeSucceeded()
      if (!this.ledger.empty) void this.flush()
    } catch {
      this.breaker.probeFailed()
    } finally {
      this.writtenBack = undefined
    }
  }

  /** Closed: writes back what the ledger holds, through the breaker (its failures count). Never rejects. */
  private async flush() {
    if (this.flushing || this.closed) return
    this.flushing = true
    try {
      await this.writeBack(this.ledger.take(), (command) => this.breaker.call(command))
    } catch {
      // Left in the ledger (restored by writeBack): the next probe or flush writes it.
    } finally {
      this.flushing = false
    }
  }

  /**
   * Replays `batch` into Redis, per deployment: a recovery first, then the minute counters (added) and the
   * cooldown (the later end wins, in the script). What fails goes back into the ledger; rejects with the first
   * failure once every write has settled.
   */
  private async writeBack(
    batch: Map<string, Pending>,
    run: <T>(command: () => Promise<T>) => Promise<T>,
  ): Promise<WrittenBack> {
    const written: WrittenBack = {
      deployments: batch.size,
      requests: 0,
      tokens: 0,
      failures: 0,
      cooldowns: 0,
    }
    const failures: unknown[] = []
    await Promise.all(
      [...batch].map(async ([id, pending]) => {
        const { recoveredAt, coolingUntil } = pending
        if (recoveredAt !== undefined) {
          try {
            await run(() => this.redis.recover(id, recoveredAt))
          } catch (error) {
            failures.push(error)
            this.ledger.restore(id, pending)
            return
          }
        }
        const writes = [...pending.minutes].map(([minute, counts]) =>
          run(() => this.redis.addCounts(id, minute, counts)).then(
            () => {
              written.requests += counts.requests
              written.tokens += counts.tokens
              written.failures += counts.failures
            },
            (error: unknown) => {
              failures.push(error)
              this.ledger.restore(id, { minutes: new Map([[minute, counts]]) })
            },
          ),
        )
        if (coolingUntil !== undefined) {
          writes.push(
            run(() => this.redis.coolDown(id, coolingUntil)).then(
              () => {
                if (coolingUntil > Date.now()) written.cooldowns++
              },
              (error: unknown) => {
                failures.push(error)
                this.ledger.restore(id, { minutes: new Map(), coolingUntil })
              },
            ),
          )
        }
        await Promise.all(writes)
      }),
    )
    if (failures.length > 0) throw failures[0]
    return written
  }
}
