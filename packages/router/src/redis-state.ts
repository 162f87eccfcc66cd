import { once } from 'node:events'
import { systemErrorCode } from '@rerank-kit/protocol'
import { Redis, type RedisOptions } from 'ioredis'
import { minuteOf, type RouterStateStore, type SharedDeploymentState, type StateStatus } from './router-state'

/**
 * Options for a client this store creates from a URL. A router must not wait on a dead Redis: with no offline
 * queue and no per-request retries a command fails at once while disconnected, `commandTimeout` bounds a
 * stalled server, and the retry strategy (never giving up) keeps reconnecting in the background so the
 * client is 'ready' again as soon as Redis is back. Pass the same options when you create the client yourself.
 */
export const redisStateClientOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 1_000,
  connectTimeout: 2_000,
  retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
} as const satisfies RedisOptions

export interface RedisStateOptions {
  /** A client (yours: `close()` leaves it open) or a redis:// URL (the store's own client). */
  redis: Redis | string
  /** Prepended to every key, so several routers (or tests) can share a Redis; default 'rerank-kit:router:'. */
  keyPrefix?: string
}

/** The per-minute counters of a deployment. */
export type MinuteCounter = 'requests' | 'tokens' | 'outcomes' | 'failures'
const minuteCounters: readonly MinuteCounter[] = ['requests', 'tokens', 'outcomes', 'failures']

/** Minute keys outlive their minute a little, so a clock slightly behind still finds its counters. */
const minuteTtlSeconds = 120

// Scripts run atomically in Redis: no other instance's command lands between the check and the increment.
const scripts = {
  /** KEYS[1] the minute's request counter; ARGV limit (-1: none), ttl seconds. 1 when counted, 0 when full. */
  rerankKitTakeRequest: {
    numberOfKeys: 1,
    lua: `local limit = tonumber(ARGV[1])
if limit >= 0 and tonumber(redis.call('GET', KEYS[1]) or '0') >= limit then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`,
  },
  /** KEYS counters; ARGV one increment per key, then the ttl in seconds. Returns the new totals. */
  rerankKitIncrement: {
    lua: `local ttl = ARGV[#KEYS + 1]
local totals = {}
for i, key in ipairs(KEYS) do
  totals[i] = redis.call('INCRBY', key, ARGV[i])
  redis.call('EXPIRE', key, ttl)
end
return totals`,
  },
  /** KEYS[1] the cooldown; ARGV until (epoch ms), expiry in ms. An earlier end never shortens a cooldown. */
  rerankKitCoolDown: {
    numberOfKeys: 1,
    lua: `local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
  },
} as const

/** The client with the scripts above defined on it (ioredis adds one method per `defineCommand`). */
interface ScriptedRedis extends Redis {
  rerankKitTakeRequest(key: string, limit: number, ttlSeconds: number): Promise<number>
  rerankKitIncrement(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<number[]>
  rerankKitCoolDown(key: string, until: number, expiryMs: number): Promise<number>
}

/**
 * Router state in Redis, shared by every router pointing at the same Redis and key prefix: per-minute
 * request, token, outcome and failure counters (LiteLLM's per-minute keys with a TTL) and cooldowns (a key
 * holding the until-epoch, expiring then). Fails when Redis does: wrap it in `FallbackState` to keep serving
 * from memory meanwhile.
 */
export class RedisState implements RouterStateStore {
  readonly client: Redis
  private readonly redis: ScriptedRedis
  private readonly prefix: string
  private readonly ownsClient: boolean

  constructor(options: RedisStateOptions) {
    this.ownsClient = typeof options.redis === 'string'
    this.client =
      typeof options.redis === 'string' ? new Redis(options.redis, redisStateClientOptions) : options.redis
    for (const [name, definition] of Object.entries(scripts)) this.client.defineCommand(name, definition)
    this.redis = this.client as ScriptedRedis
    this.prefix = options.keyPrefix ?? 'rerank-kit:router:'
    // Without a listener ioredis prints every connection error to the console; failures reach callers as
    // rejected commands instead.
    this.client.on('error', () => {})
  }

  status(): StateStatus {
    return { state: 'redis' }
  }

  /** Resolves once the client is ready; rejects on its first connection error, or after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    const client = this.client
    if (client.status === 'ready') return Promise.resolve()
    if (client.status === 'wait') client.connect().catch(() => {}) // lazyConnect: the failure arrives as 'error'
    return new Promise((resolve, reject) => {
      const settle = (error?: unknown) => {
        clearTimeout(timer)
        client.off('ready', onReady).off('error', onError).off('end', onEnd)
        if (error === undefined) resolve()
        else reject(error)
      }
      const onReady = () => settle()
      const onError = (error: unknown) => settle(error)
      const onEnd = () => settle(new Error('Redis connection closed'))
      const timer = setTimeout(() => settle(new Error(`Redis not ready within ${timeoutMs} ms`)), timeoutMs)
      client.on('ready', onReady).on('error', onError).on('end', onEnd)
    })
  }

  async ping(): Promise<void> {
    await this.client.ping()
  }

  async read(ids: readonly string[], now: number): Promise<Map<string, SharedDeploymentState>> {
    const states = new Map<string, SharedDeploymentState>()
    if (ids.length === 0) return states
    const minute = minuteOf(now)
    // One MGET for every deployment: a pick costs one round trip however large the group.
    const values = await this.client.mget(
      ids.flatMap((id) => [
        this.minuteKey(id, minute, 'requests'),
        this.minuteKey(id, minute, 'tokens'),
        this.cooldownKey(id),
      ]),
    )
    ids.forEach((id, index) => {
      const until = Number(values[index * 3 + 2] ?? 0)
      states.set(id, {
        rpmUsed: Number(values[index * 3] ?? 0),
        tpmUsed: Number(values[index * 3 + 1] ?? 0),
        ...(until > now ? { coolingUntil: until } : {}),
      })
    })
    return states
  }

  async takeRequest(id: string, limit: number | undefined, now: number): Promise<boolean> {
    const key = this.minuteKey(id, minuteOf(now), 'requests')
    return (await this.redis.rerankKitTakeRequest(key, limit ?? -1, minuteTtlSeconds)) === 1
  }

  async addTokens(id: string, tokens: number, now: number): Promise<void> {
    // INCRBY takes integers only; a backend may report none or nonsense.
    const whole = Math.max(0, Math.ceil(tokens))
    await this.redis.rerankKitIncrement(
      1,
      this.minuteKey(id, minuteOf(now), 'tokens'),
      whole,
      minuteTtlSeconds,
    )
  }

  async recordOutcome(id: string, failed: boolean, now: number) {
    const minute = minuteOf(now)
    const [requests = 0, failures = 0] = await this.redis.rerankKitIncrement(
      2,
      this.minuteKey(id, minute, 'outcomes'),
      this.minuteKey(id, minute, 'failures'),
      1,
      failed ? 1 : 0,
      minuteTtlSeconds,
    )
    return { requests, failures }
  }

  /**
   * Adds counts to a minute's counters (what `FallbackState` served from memory while Redis was away, written
   * back when it returns). Zero counts are skipped; fractions round up, as in `addTokens`.
   */
  async addCounts(id: string, minute: number, counts: Partial<Record<MinuteCounter, number>>): Promise<void> {
    const keys: string[] = []
    const increments: number[] = []
    for (const counter of minuteCounters) {
      const whole = Math.max(0, Math.ceil(counts[counter] ?? 0))
      if (whole === 0) continue
      keys.push(this.minuteKey(id, minute, counter))
      increments.push(whole)
    }
    if (keys.length === 0) return
    await this.redis.rerankKitIncrement(keys.length, ...keys, ...increments, minuteTtlSeconds)
  }

  async coolDown(id: string, until: number): Promise<void> {
    // The stored until-epoch decides (read compares it with the router's clock); the expiry only removes the
    // key afterwards, so it is measured on this process's clock.
    const expiryMs = Math.ceil(until - Date.now())
    if (expiryMs <= 0) return
    await this.redis.rerankKitCoolDown(this.cooldownKey(id), until, expiryMs)
  }

  async recover(id: string, now: number): Promise<void> {
    const minute = minuteOf(now)
    await this.client.del(
      this.cooldownKey(id),
      this.minuteKey(id, minute, 'outcomes'),
      this.minuteKey(id, minute, 'failures'),
    )
  }

  /**
   * An error's text for logs: the system code (ECONNREFUSED) or Redis's own error code (NOAUTH, WRONGPASS),
   * else ioredis's message; never the host, port, user or password (ioredis quotes `127.0.0.1:6379` in its
   * connection errors, and a URL may name an internal host).
   */
  describe(error: unknown): string {
    const code = systemErrorCode(error)
    const text = error instanceof Error ? error.message : String(error)
    const replyCode = /^[A-Z]{3,}\b/.exec(text)?.[0]
    if (code !== undefined) return `redis connection failed (${code})`
    if (replyCode !== undefined) return `redis refused (${replyCode})`
    const { host, port, username, password } = this.client.options
    let safe = text
    for (const secret of [password, username, port && host ? `${host}:${port}` : undefined, host]) {
      if (secret) safe = safe.replaceAll(String(secret), '***')
    }
    return safe
  }

  /**
   * Quits the client this store created from a URL (resolving once the connection has ended) or stops it
   * reconnecting; a client passed in stays open (its owner closes it). `graceMs` bounds the wait for QUIT
   * (a stalled Redis never answers it): past it, or with 0, the connection is dropped at once.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (!this.ownsClient || this.client.status === 'end') return
    const graceMs = options.graceMs ?? Number.POSITIVE_INFINITY
    if (this.client.status === 'ready' && graceMs > 0) {
      const client = this.client
      let timer: NodeJS.Timeout | undefined
      try {
        const quitting = (async () => {
          await client.quit()
          // The reply comes before the server closes the socket (TS keeps the status narrowed to 'ready').
          if ((client.status as string) !== 'end') await once(client, 'end')
        })()
        const deadline = Number.isFinite(graceMs)
          ? new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error('QUIT not answered in time')), graceMs)
            })
          : undefined
        quitting.catch(() => {}) // past the deadline, its rejection is nobody's
        await (deadline ? Promise.race([quitting, deadline]) : quitting)
        return
      } catch {
        // Redis went away or stalled meanwhile: disconnect below.
      } finally {
        clearTimeout(timer)
      }
    }
    // Without a connection there is nothing to wait for; this also stops the reconnection loop.
    this.client.disconnect()
  }

  private minuteKey(id: string, minute: number, counter: MinuteCounter) {
    return `${this.prefix}${id}:${minute}:${counter}`
  }

  private cooldownKey(id: string) {
    return `${this.prefix}${id}:cooldown`
  }
}
