import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import {
  codeFromStatus,
  type Logger,
  RerankError,
  type Reranker,
  type RerankResponse,
} from '@rerank-kit/protocol'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FallbackState, type FallbackStateOptions } from './fallback-state'
import { RedisState } from './redis-state'
import { Router, type RouterOptions } from './router'
import { minuteOf } from './router-state'
import { RedisServer } from './test-support/redis-server'
import { scriptedAnswer } from './test-support/scripted-deployments'

// The breaker around Redis against a real redis-server: SIGKILL and restart it under 100 concurrent requests,
// SIGSTOP it (a stalled Redis), close the router in the middle of an outage. Every request is answered, the
// store changes mode once each way per outage, what it served from memory is written back to Redis, a stalled
// Redis costs a request one timeout at most, and close() does not wait for Redis.
// RedisServer.start fails (never skips) when redis-server is missing.

let server: RedisServer
let inspect: Redis
const cleanups: (() => Promise<unknown> | unknown)[] = []

beforeAll(async () => {
  server = await RedisServer.start()
  inspect = new Redis(server.url)
  inspect.on('error', () => {})
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  // A test that failed during an outage must not leave the next ones without Redis.
  server.resume()
  if (!server.running) await server.start()
})

afterAll(async () => {
  inspect?.disconnect()
  await server?.stop()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const request = { query: 'q', documents: ['a', 'b'] }

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs` (generous: CI machines are slow). */
async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

interface LogEntry {
  at: number
  level: keyof Logger
  message: string
  fields?: Record<string, unknown>
}

function recordingLogger() {
  const entries: LogEntry[] = []
  const record = (level: keyof Logger) => (message: string, fields?: Record<string, unknown>) => {
    entries.push({ at: Date.now(), level, message, ...(fields ? { fields } : {}) })
  }
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  }
  return { logger, entries }
}

/**
 * An in-process deployment answering after `delayMs` (a macrotask, so a busy router still lets timers and
 * sockets run) with 10 tokens of usage; while `failing`, with HTTP 503 instead.
 */
function backend({ delayMs = 5, onCall }: { delayMs?: number; onCall?: () => void } = {}) {
  const counts = { calls: 0, failed: 0 }
  let failing = false
  const reranker: Reranker = {
    async rerank(rerankRequest): Promise<RerankResponse> {
      counts.calls++
      onCall?.()
      await sleep(delayMs)
      if (failing) {
        counts.failed++
        throw new RerankError(codeFromStatus(503), 'HTTP 503', { upstreamStatus: 503 })
      }
      return scriptedAnswer(rerankRequest, 'm')
    },
  }
  return {
    reranker,
    counts,
    setFailing(value: boolean) {
      failing = value
    },
  }
}

/** A router over FallbackState(RedisState) on the test server, under a fresh key prefix; closed after the test. */
function routerOnRedis(
  stateOptions: Omit<FallbackStateOptions, 'redis' | 'logger'>,
  routerOptions: Omit<RouterOptions, 'state'>,
) {
  const prefix = `test:${randomUUID()}:`
  const { logger, entries } = recordingLogger()
  const redis = new RedisState({ redis: server.url, keyPrefix: prefix })
  const state = new FallbackState({ redis, logger, ...stateOptions })
  const router = new Router({ retryDelayMs: 1, ...routerOptions, state })
  cleanups.push(() => router.close())
  return { router, state, redis, prefix, logs: entries }
}

const stateLogs = (logs: LogEntry[]) => logs.filter((entry) => entry.message.startsWith('router state'))

/** How long `work` took, in ms. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}

describe('Redis killed and restarted under 100 concurrent requests', () => {
  it('answers every request, switches to memory once and back once, and writes the outage back', async () => {
    const openMs = 1_000
    const frozen = Date.now() // one minute window for the whole test
    const minute = minuteOf(frozen)
    const cooldownTimeMs = 120_000
    const steady = backend()
    const flaky = backend()
    const { router, state, prefix, logs } = routerOnRedis(
      { openMs, timeoutMs: 200 },
      {
        deployments: [
          { id: 'steady', modelName: 'm', reranker: steady.reranker },
          { id: 'flaky', modelName: 'm', reranker: flaky.reranker },
        ],
        routingStrategy: 'simple-shuffle',
        allowedFails: 1,
        cooldownTimeMs,
        now: () => frozen,
      },
    )
    const calls = () => steady.counts.calls + flaky.counts.calls

    // The store's mode as seen every 10 ms, as a sequence of changes.
    const modes: string[] = []
    const sampler = setInterval(() => {
      const mode = state.status().state
      if (modes.at(-1) !== mode) modes.push(mode)
    }, 10)
    cleanups.push(() => clearInterval(sampler))

    let answered = 0
    const rejected: unknown[] = []
    let running = true
    const workers = Array.from({ length: 100 }, async () => {
      while (running) {
        try {
          await router.rerank(request)
          answered++
        } catch (error) {
          rejected.push(error)
        }
      }
    })

    await sleep(300)
    expect(state.status().state).toBe('redis')
    await server.kill()
    const callsAtKill = calls()
    const answeredAtKill = answered
    await eventually(() => state.status().state === 'memory', 'the switch to memory', 5_000)

    // A deployment fails only while Redis is away: its failures and cooldown can reach Redis only by being
    // written back. Past openMs, so at least one probe fails meanwhile (that is no switch).
    flaky.setFailing(true)
    await sleep(openMs * 1.5)
    flaky.setFailing(false)
    const flakyCallsAtRestart = flaky.counts.calls
    const answeredAtRestart = answered
    await server.start()
    await eventually(() => state.status().state === 'redis', 'the switch back to Redis')
    await sleep(300)
    running = false
    await Promise.all(workers)
    clearInterval(sampler)

    // Every request answered, during the outage too.
    expect(rejected).toEqual([])
    expect(answeredAtRestart - answeredAtKill).toBeGreaterThan(100)
    expect(answered).toBeGreaterThan(answeredAtRestart)

    // One switch each way, the way back no sooner than openMs after leaving: no flapping.
    expect(modes).toEqual(['redis', 'memory', 'redis'])
    const switches = stateLogs(logs)
    expect(switches.map((entry) => [entry.level, entry.message])).toEqual([
      ['warn', 'router state: redis unreachable, serving from memory'],
      ['info', 'router state: back on redis'],
    ])
    expect(switches[1]!.at - switches[0]!.at).toBeGreaterThanOrEqual(openMs)
    expect(state.status()).toMatchObject({ state: 'redis', stateBreaker: { state: 'closed', switches: 2 } })
    expect(state.status().stateNote).toBeUndefined()

    // The failing deployment's outage-time failures and cooldown are in Redis (which restarted empty)...
    expect(flaky.counts.failed).toBeGreaterThan(0)
    expect(await inspect.get(`${prefix}flaky:${minute}:failures`)).toBe(String(flaky.counts.failed))
    expect(await inspect.get(`${prefix}flaky:cooldown`)).toBe(String(frozen + cooldownTimeMs))
    expect(await inspect.pttl(`${prefix}flaky:cooldown`)).toBeGreaterThan(100_000)
    // ...so, healthy again, it was not called after the restart: Redis holds its cooldown.
    expect(flaky.counts.calls).toBe(flakyCallsAtRestart)
    expect(switches[1]!.fields?.writtenBack).toMatchObject({
      deployments: 2,
      failures: flaky.counts.failed,
      cooldowns: 1,
    })

    // Redis counts every call since the kill: the outage's (written back) and those after. The old Redis's
    // counts died with it; at most the requests in flight at the kill (100) are on the edge either way.
    const counter = async (id: string, name: string) =>
      Number((await inspect.get(`${prefix}${id}:${minute}:${name}`)) ?? 0)
    const requests = (await counter('steady', 'requests')) + (await counter('flaky', 'requests'))
    const sinceKill = calls() - callsAtKill
    expect(sinceKill).toBeGreaterThan(1_000)
    expect(Math.abs(requests - sinceKill)).toBeLessThanOrEqual(100)
    // Steady answers every call with 10 tokens: its tokens match its requests, within the same edge.
    const steadyRequests = await counter('steady', 'requests')
    expect(Math.abs((await counter('steady', 'tokens')) / 10 - steadyRequests)).toBeLessThanOrEqual(100)
    // And the router reads them: the stats come from Redis again.
    const stats = await router.stats()
    expect(stats.deployments.reduce((sum, deployment) => sum + deployment.rpmUsed, 0)).toBe(requests)
    expect(stats.deployments.find((deployment) => deployment.id === 'flaky')?.coolingUntil).toBe(
      new Date(frozen + cooldownTimeMs).toISOString(),
    )
  }, 60_000)

  it('writes back exactly: counters added to those already there, the later cooldown kept, a recovery replayed', async () => {
    const openMs = 500
    const { logger, entries } = recordingLogger()
    const prefix = `test:${randomUUID()}:`
    const state = new FallbackState({
      redis: new RedisState({ redis: server.url, keyPrefix: prefix }),
      logger,
      openMs,
    })
    cleanups.push(() => state.close())
    const now = Date.now()
    const minute = minuteOf(now)
    expect(await state.takeRequest('a', undefined, now)).toBe(true) // on Redis (lost with it)

    await server.kill()
    expect(await state.takeRequest('a', 10, now)).toBe(true)
    expect(await state.takeRequest('a', 10, now)).toBe(true)
    await state.addTokens('a', 7.5, now)
    await state.recordOutcome('a', true, now)
    await state.recordOutcome('b', true, now)
    await state.recordOutcome('b', false, now)
    await state.coolDown('a', now + 60_000)
    await state.coolDown('b', now + 60_000)
    await state.coolDown('c', now + 60_000)
    await state.recover('c', now) // a passed half-open trial: c's cooldown ends
    expect(state.status().state).toBe('memory')

    await server.start()
    // Meanwhile another instance wrote to the restarted Redis: its counts add up with ours; its later
    // cooldown on b stays, its earlier one on a is extended, its cooldown on c ends with our recovery.
    await inspect.set(`${prefix}a:${minute}:requests`, 5)
    await inspect.set(`${prefix}a:cooldown`, now + 30_000, 'PX', 30_000)
    await inspect.set(`${prefix}b:cooldown`, now + 90_000, 'PX', 90_000)
    await inspect.set(`${prefix}c:cooldown`, now + 90_000, 'PX', 90_000)
    await eventually(async () => {
      await state.read(['a'], now) // calls probe once the period is over
      return state.status().state === 'redis'
    }, 'the switch back to Redis')

    const values = async (id: string) =>
      Object.fromEntries(
        await Promise.all(
          ['requests', 'tokens', 'outcomes', 'failures'].map(
            async (name) => [name, await inspect.get(`${prefix}${id}:${minute}:${name}`)] as const,
          ),
        ),
      )
    expect(await values('a')).toEqual({ requests: '7', tokens: '8', outcomes: '1', failures: '1' })
    expect(await values('b')).toEqual({ requests: null, tokens: null, outcomes: '2', failures: '1' })
    expect(await inspect.get(`${prefix}a:cooldown`)).toBe(String(now + 60_000))
    expect(await inspect.get(`${prefix}b:cooldown`)).toBe(String(now + 90_000))
    expect(await inspect.exists(`${prefix}c:cooldown`)).toBe(0)
    // The store reads the merged state from Redis now.
    expect(await state.read(['a', 'b', 'c'], now)).toEqual(
      new Map([
        ['a', { rpmUsed: 7, tpmUsed: 8, coolingUntil: now + 60_000 }],
        ['b', { rpmUsed: 0, tpmUsed: 0, coolingUntil: now + 90_000 }],
        ['c', { rpmUsed: 0, tpmUsed: 0 }],
      ]),
    )
    expect(entries.map((entry) => [entry.level, entry.message])).toEqual([
      ['warn', 'router state: redis unreachable, serving from memory'],
      ['info', 'router state: back on redis'],
    ])
    expect(entries[1]!.fields?.writtenBack).toEqual({
      deployments: 3,
      requests: 2,
      tokens: 7.5,
      failures: 2,
      cooldowns: 2,
    })
  }, 30_000)
})

describe('an isolated Redis error (below the threshold)', () => {
  it('keeps the store on Redis, answers from memory, and writes that answer back on the next success', async () => {
    const { logger, entries } = recordingLogger()
    const prefix = `test:${randomUUID()}:`
    const state = new FallbackState({
      redis: new RedisState({ redis: server.url, keyPrefix: prefix }),
      logger,
    })
    cleanups.push(() => state.close())
    const now = Date.now()
    const key = `${prefix}a:${minuteOf(now)}:requests`
    await state.read(['a'], now) // connected
    // A key of the wrong type: Redis answers the take's script with a WRONGTYPE error.
    await inspect.hset(key, 'not', 'a counter')
    expect(await state.takeRequest('a', 10, now)).toBe(true)
    expect(state.status()).toMatchObject({ state: 'redis', stateBreaker: { state: 'closed', switches: 0 } })
    await inspect.del(key)
    expect(await state.takeRequest('b', 10, now)).toBe(true)
    await eventually(async () => (await inspect.get(key)) === '1', "a's request written back", 5_000)
    expect(await state.read(['a', 'b'], now)).toEqual(
      new Map([
        ['a', { rpmUsed: 1, tpmUsed: 0 }],
        ['b', { rpmUsed: 1, tpmUsed: 0 }],
      ]),
    )
    expect(entries).toEqual([])
  }, 30_000)
})

describe('a stalled Redis (SIGSTOP)', () => {
  const timeoutMs = 400
  // A correctness bound, not a benchmark: one timeout plus generous slack for a busy machine. Three
  // sequential timeouts (read, take, the writes after the call) would be 1200 ms and fail it.
  const bound = timeoutMs + 500

  it('costs a request one timeout at most; the next requests are served from memory at once', async () => {
    const { router, state, logs } = routerOnRedis(
      { timeoutMs, openMs: 500 },
      { deployments: [{ id: 'only', modelName: 'm', reranker: backend().reranker }] },
    )
    await router.rerank(request)
    expect(state.status().state).toBe('redis')
    server.pause()
    const first = await timed(() => router.rerank(request))
    expect(first).toBeLessThan(bound)
    expect(state.status().state).toBe('memory')
    for (let i = 0; i < 3; i++) expect(await timed(() => router.rerank(request))).toBeLessThan(200)
    expect(stateLogs(logs)[0]?.fields).toEqual({ reason: 'Command timed out' })

    server.resume()
    await eventually(async () => (await router.stats()).state === 'redis', 'the switch back to Redis')
    expect(stateLogs(logs).map((entry) => entry.level)).toEqual(['warn', 'info'])
  }, 30_000)

  it('delays none of 100 concurrent requests by more than the timeout', async () => {
    const { router, state } = routerOnRedis(
      { timeoutMs, openMs: 5_000 },
      { deployments: [{ id: 'only', modelName: 'm', reranker: backend().reranker }] },
    )
    await router.rerank(request)
    server.pause()
    const latencies = await Promise.all(
      Array.from({ length: 100 }, () => timed(() => router.rerank(request))),
    )
    expect(state.status().state).toBe('memory')
    expect(Math.max(...latencies)).toBeLessThan(bound)
  }, 30_000)

  it('bounds the writes after a call too: Redis stalling while the backend answers', async () => {
    const backendDelayMs = 50
    let stallOnCall = false
    const stalling = backend({
      delayMs: backendDelayMs,
      onCall: () => {
        if (stallOnCall) server.pause()
      },
    })
    const { router, state } = routerOnRedis(
      { timeoutMs, openMs: 5_000 },
      { deployments: [{ id: 'only', modelName: 'm', reranker: stalling.reranker }] },
    )
    await router.rerank(request)
    stallOnCall = true
    // The pick's read and take find Redis healthy; the tokens and outcome after the call find it stalled.
    const latency = await timed(() => router.rerank(request))
    expect(state.status().state).toBe('memory')
    expect(latency).toBeLessThan(backendDelayMs + bound)
  }, 30_000)
})

describe('close() during a Redis outage', () => {
  it('returns at once when Redis is dead, and stops the reconnection loop', async () => {
    const { router, state, redis } = routerOnRedis(
      { openMs: 60_000 },
      { deployments: [{ id: 'only', modelName: 'm', reranker: backend().reranker }] },
    )
    await router.rerank(request)
    await server.kill()
    await router.rerank(request)
    expect(state.status().state).toBe('memory')
    expect(await timed(() => router.close())).toBeLessThan(1_000)
    // No reconnection after close (ioredis leaves the status at 'reconnecting', with its timer cleared): with
    // Redis back, the client stays away (its retry delay at this point is well under a second).
    await server.start()
    await sleep(1_500)
    expect(redis.client.status).not.toBe('ready')
    const clients = String(await inspect.client('LIST'))
      .trim()
      .split('\n')
    expect(clients).toHaveLength(1) // the test's own inspecting connection
  }, 30_000)

  it('does not wait for QUIT when Redis is stalled', async () => {
    const { router, redis } = routerOnRedis(
      { timeoutMs: 200 },
      { deployments: [{ id: 'only', modelName: 'm', reranker: backend().reranker }] },
    )
    await router.rerank(request)
    server.pause()
    // The breaker has not noticed yet (no call since): QUIT gets one timeout, then the connection is dropped
    // (not ioredis's own 1 s command timeout).
    expect(await timed(() => router.close())).toBeLessThan(200 + 500)
    // The connection is dropped in the background (ioredis destroys the half-closed socket after 2 s).
    await eventually(() => redis.client.status === 'end', 'the connection ended', 5_000)
  }, 30_000)

  it('ends the wait for a first connection: waiting requests are answered from memory', async () => {
    // A server that accepts connections and never answers: the first connection never becomes ready.
    const sockets = new Set<Socket>()
    const silent: Server = createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1')
    await once(silent, 'listening')
    const port = (silent.address() as { port: number }).port
    // A client of the caller's own: closing the store leaves it open, so only the store can end the wait.
    const client = new Redis(`redis://127.0.0.1:${port}`, {
      enableOfflineQueue: false,
      connectTimeout: 60_000,
    })
    client.on('error', () => {})
    cleanups.push(() => {
      client.disconnect()
      for (const socket of sockets) socket.destroy()
      silent.close()
    })
    const state = new FallbackState({ redis: new RedisState({ redis: client }), connectWaitMs: 60_000 })
    const router = new Router({
      deployments: [{ id: 'only', modelName: 'm', reranker: backend().reranker }],
      state,
    })
    const started = performance.now()
    const waiting = router.rerank(request)
    await sleep(200)
    expect(await timed(() => router.close())).toBeLessThan(1_000)
    await expect(waiting).resolves.toMatchObject({ model: 'm' })
    expect(performance.now() - started).toBeLessThan(1_200)
  }, 30_000)
})
