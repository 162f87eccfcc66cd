import { type Logger, silentLogger } from '@rerank-kit/protocol'
import { MemoryState } from './memory-state'
import type { RedisState } from './redis-state'
import type { RouterStateStore, SharedDeploymentState, StateStatus } from './router-state'

export interface FallbackStateOptions {
  redis: RedisState
  /** One warn when falling back to memory, one info when back on Redis. */
  logger?: Logger
  /** While on memory, how often a call may try Redis again, besides each reconnection (default 2 s). */
  retryIntervalMs?: number
  /** How long the first calls wait for the first connection before serving from memory (default 2 s). */
  connectWaitMs?: number
}

/**
 * Router state in Redis while Redis answers, in this process's memory while it does not: a failing Redis call
 * (refused, timed out, disconnected) never fails the request, it switches the store to memory, which the
 * router's stats then show. Redis is tried again whenever its client reconnects and every `retryIntervalMs`,
 * and the store goes back to it once it answers.
 *
 * Writes also go to memory while Redis serves, so on a fallback this instance still knows its own usage of
 * the minute and the cooldowns it set, instead of starting from zero. Limits then hold per instance only.
 */
export class FallbackState implements RouterStateStore {
  private readonly redis: RedisState
  private readonly memory = new MemoryState()
  private readonly logger: Logger
  private readonly retryIntervalMs: number
  /** Until the first connection settles, calls wait for it: limits hold from the first request. */
  private connecting: Promise<void> | undefined
  /** When Redis stopped answering; undefined while it serves. */
  private degradedSince: number | undefined
  private nextRetryAt = 0
  private retrying = false
  private closed = false
  private readonly onReady = () => {
    void this.retryRedis()
  }

  constructor(options: FallbackStateOptions) {
    this.redis = options.redis
    this.logger = options.logger ?? silentLogger
    this.retryIntervalMs = options.retryIntervalMs ?? 2_000
    this.connecting = this.redis.ready(options.connectWaitMs ?? 2_000).then(
      () => {
        this.connecting = undefined
      },
      (error: unknown) => {
        this.connecting = undefined
        this.fallBack(error)
      },
    )
    this.redis.client.on('ready', this.onReady)
  }

  status(): StateStatus {
    if (this.degradedSince === undefined) return { state: 'redis' }
    const since = new Date(this.degradedSince).toISOString()
    return { state: 'memory', stateNote: `redis unreachable since ${since}; serving from memory` }
  }

  read(ids: readonly string[], now: number): Promise<Map<string, SharedDeploymentState>> {
    return this.use(
      () => this.redis.read(ids, now),
      () => this.memory.read(ids, now),
    )
  }

  takeRequest(id: string, limit: number | undefined, now: number): Promise<boolean> {
    return this.use(
      async () => {
        const taken = await this.redis.takeRequest(id, limit, now)
        // Redis decided; memory only counts what this instance took.
        if (taken) await this.memory.takeRequest(id, undefined, now)
        return taken
      },
      () => this.memory.takeRequest(id, limit, now),
    )
  }

  async addTokens(id: string, tokens: number, now: number): Promise<void> {
    await this.memory.addTokens(id, tokens, now)
    await this.use(
      () => this.redis.addTokens(id, tokens, now),
      async () => {},
    )
  }

  async recordOutcome(id: string, failed: boolean, now: number) {
    const local = await this.memory.recordOutcome(id, failed, now)
    return this.use(
      () => this.redis.recordOutcome(id, failed, now),
      async () => local,
    )
  }

  async coolDown(id: string, until: number): Promise<void> {
    await this.memory.coolDown(id, until)
    await this.use(
      () => this.redis.coolDown(id, until),
      async () => {},
    )
  }

  async recover(id: string, now: number): Promise<void> {
    await this.memory.recover(id, now)
    await this.use(
      () => this.redis.recover(id, now),
      async () => {},
    )
  }

  async close(): Promise<void> {
    this.closed = true
    this.redis.client.off('ready', this.onReady)
    await this.redis.close()
  }

  private async use<T>(onRedis: () => Promise<T>, onMemory: () => Promise<T>): Promise<T> {
    if (this.connecting) await this.connecting
    if (this.degradedSince === undefined) {
      try {
        return await onRedis()
      } catch (error) {
        this.fallBack(error)
      }
    } else if (Date.now() >= this.nextRetryAt) {
      // In the background: a request never waits for Redis to come back.
      void this.retryRedis()
    }
    return onMemory()
  }

  private fallBack(error: unknown) {
    if (this.degradedSince !== undefined || this.closed) return
    this.degradedSince = Date.now()
    this.nextRetryAt = this.degradedSince + this.retryIntervalMs
    this.logger.warn('router state: redis unreachable, serving from memory', {
      reason: this.redis.describe(error),
    })
  }

  /** Back to Redis if it answers a PING. Never rejects. */
  private async retryRedis() {
    if (this.degradedSince === undefined || this.retrying || this.closed) return
    this.retrying = true
    try {
      await this.redis.ping()
      const unreachableMs = Date.now() - this.degradedSince
      this.degradedSince = undefined
      this.logger.info('router state: back on redis', { unreachableMs })
    } catch {
      this.nextRetryAt = Date.now() + this.retryIntervalMs
    } finally {
      this.retrying = false
    }
  }
}
