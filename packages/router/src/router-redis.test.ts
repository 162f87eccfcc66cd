import { randomUUID } from 'node:crypto'
import {
  codeFromStatus,
  type Logger,
  RerankError,
  type Reranker,
  type RerankResponse,
} from '@rerank-kit/protocol'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseRouterConfig } from './config'
import { FallbackState } from './fallback-state'
import { RedisState } from './redis-state'
import { Router, type RouterOptions } from './router'
import { routerFromConfig } from './router-from-config'
import { minuteOf } from './router-state'
import { RedisServer } from './test-support/redis-server'
import { scriptedAnswer } from './test-support/scripted-deployments'

// Two Router instances (as in two processes) sharing one real redis-server: limits and cooldowns hold across
// both, and a Redis outage degrades them to memory without failing a request. The server has a password, so
// the tests also check that it never reaches a log line or the stats.

const password = 'pw-7c1e-secret'
let server: RedisServer
let inspect: Redis
const routers: Router[] = []

beforeAll(async () => {
  server = await RedisServer.start({ password })
  inspect = new Redis(server.url)
})

afterEach(async () => {
  await Promise.all(routers.splice(0).map((router) => router.close()))
  // A test that failed during an outage must not leave the next ones without Redis.
  if (!server.running) await server.start()
})

afterAll(async () => {
  inspect?.disconnect()
  await server?.stop()
})

// The router answers with the group's name, not the deployment's: each scripted deployment logs its name when it
// answers, and a test reads who served a request from that log.
const served: string[] = []
async function servedBy(answer: Promise<unknown>): Promise<string | undefined> {
  await answer
  return served.at(-1)
}

/** A deployment answering as `name` (the response's model), or failing with HTTP 503 when `failing`. */
function backend(name: string, { failing = false } = {}) {
  let calls = 0
  const reranker: Reranker = {
    async rerank(request): Promise<RerankResponse> {
      calls++
      if (failing) throw new RerankError(codeFromStatus(503), 'HTTP 503', { upstreamStatus: 503 })
      served.push(name)
      return scriptedAnswer(request, name)
    },
  }
  return {
    reranker,
    get calls() {
      return calls
    },
  }
}

interface LogEntry {
  level: keyof Logger
  message: string
  fields?: Record<string, unknown>
}

function recordingLogger() {
  const entries: LogEntry[] = []
  const record = (level: keyof Logger) => (message: string, fields?: Record<string, unknown>) => {
    entries.push({ level, message, ...(fields ? { fields } : {}) })
  }
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  }
  return { logger, entries }
}

/** One router instance on the shared Redis (its own connection), keys under `prefix`. */
function instance(prefix: string, options: Omit<RouterOptions, 'state' | 'logger'>) {
  const { logger, entries } = recordingLogger()
  const state = new FallbackState({
    redis: new RedisState({ redis: server.url, keyPrefix: prefix }),
    logger,
    retryIntervalMs: 200,
  })
  const router = new Router({ retryDelayMs: 1, ...options, state, logger })
  routers.push(router)
  return { router, logs: entries }
}

const uniquePrefix = () => `test:${randomUUID()}:`
const request = { query: 'q', documents: ['a', 'b'] }

async function settle(router: Router, count: number) {
  return Promise.allSettled(Array.from({ length: count }, () => router.rerank(request)))
}

/** Polls `condition` every 100 ms until it holds; fails after `timeoutMs` (generous: CI machines are slow). */
async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const stateLogs = (logs: LogEntry[]) => logs.filter((entry) => entry.message.startsWith('router state'))

describe('Two routers sharing Redis', () => {
  it('hold a combined rpm limit: 5 successes in total, then rate limited (429) with a Retry-After', async () => {
    const prefix = uniquePrefix()
    // One frozen clock for both: the minute window cannot turn in the middle of the test.
    const frozen = Date.now()
    const now = () => frozen
    const first = backend('first')
    const second = backend('second')
    const a = instance(prefix, {
      deployments: [{ id: 'only', modelName: 'm', rpm: 5, reranker: first.reranker }],
      now,
    })
    const b = instance(prefix, {
      deployments: [{ id: 'only', modelName: 'm', rpm: 5, reranker: second.reranker }],
      now,
    })
    // All at once, on both instances: the check and the count are one atomic step in Redis, so no two
    // requests can both take the last unit.
    const outcomes = (await Promise.all([settle(a.router, 6), settle(b.router, 6)])).flat()
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(5)
    expect(first.calls + second.calls).toBe(5)
    // Sequential requests on either instance are refused too.
    outcomes.push(...(await settle(a.router, 1)), ...(await settle(b.router, 1)))
    const refused = outcomes.filter(
      (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
    )
    expect(refused).toHaveLength(9)
    for (const outcome of refused) {
      const error = outcome.reason
      expect(error).toBeInstanceOf(RerankError)
      expect(error.code).toBe('rate_limited')
      expect(error.retryAfterMs).toBeGreaterThan(0)
      expect(error.retryAfterMs).toBeLessThanOrEqual(60_000)
    }
    for (const router of [a.router, b.router]) {
      const stats = await router.stats()
      expect(stats.state).toBe('redis')
      expect(stats.deployments[0]).toMatchObject({ id: 'only', rpmUsed: 5, rpm: 5 })
    }
    expect(await inspect.get(`${prefix}only:${minuteOf(frozen)}:requests`)).toBe('5')
  })

  it('share cooldowns: failures in one instance make the other skip that deployment', async () => {
    const prefix = uniquePrefix()
    const options = { routingStrategy: 'priority-failover', allowedFails: 0, cooldownTimeMs: 60_000 } as const
    const flakyA = backend('flaky-a', { failing: true })
    const steadyA = backend('steady-a')
    // B's copy of the flaky deployment would answer: only the shared cooldown can keep B away from it.
    const flakyB = backend('flaky-b')
    const steadyB = backend('steady-b')
    const a = instance(prefix, {
      ...options,
      deployments: [
        { id: 'flaky', modelName: 'm', priority: 0, reranker: flakyA.reranker },
        { id: 'steady', modelName: 'm', priority: 1, reranker: steadyA.reranker },
      ],
    })
    const b = instance(prefix, {
      ...options,
      deployments: [
        { id: 'flaky', modelName: 'm', priority: 0, reranker: flakyB.reranker },
        { id: 'steady', modelName: 'm', priority: 1, reranker: steadyB.reranker },
      ],
    })
    expect(await servedBy(a.router.rerank(request))).toBe('steady-a')
    expect(flakyA.calls).toBe(1)
    for (let i = 0; i < 3; i++) expect(await servedBy(b.router.rerank(request))).toBe('steady-b')
    expect(flakyB.calls).toBe(0)
    expect(steadyB.calls).toBe(3)
    const flaky = (await b.router.stats()).deployments.find((deployment) => deployment.id === 'flaky')!
    expect(Date.parse(flaky.coolingUntil!)).toBeGreaterThan(Date.now())
  })

  it('keep answering from memory while Redis is down, say so, and go back to Redis when it returns', async () => {
    const prefix = uniquePrefix()
    const frozen = Date.now()
    const deployments = (side: string) => [
      { id: 'd1', modelName: 'm', reranker: backend(`${side}-d1`).reranker },
      { id: 'd2', modelName: 'm', reranker: backend(`${side}-d2`).reranker },
    ]
    const options = { routingStrategy: 'round-robin', now: () => frozen } as const
    const a = instance(prefix, { ...options, deployments: deployments('a') })
    const b = instance(prefix, { ...options, deployments: deployments('b') })
    const rpmUsed = async (router: Router) =>
      (await router.stats()).deployments.reduce((sum, deployment) => sum + deployment.rpmUsed, 0)

    for (const router of [a.router, b.router]) await router.rerank(request)
    expect(await rpmUsed(a.router)).toBe(2) // shared: both instances' requests

    await server.kill()
    // Concurrent and sequential requests, on both instances: not one fails.
    const during = [...(await settle(a.router, 10)), ...(await settle(b.router, 10))]
    for (let i = 0; i < 10; i++) during.push(...(await settle(i % 2 === 0 ? a.router : b.router, 1)))
    expect(during.filter((outcome) => outcome.status === 'rejected')).toEqual([])

    for (const { router, logs } of [a, b]) {
      const stats = await router.stats()
      expect(stats.state).toBe('memory')
      expect(stats.stateNote).toMatch(
        /^redis unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z; serving from memory$/,
      )
      expect(stateLogs(logs).map((entry) => [entry.level, entry.message])).toEqual([
        ['warn', 'router state: redis unreachable, serving from memory'],
      ])
    }
    // Memory carries on from this instance's own usage of the minute: 1 before the outage, 15 during it.
    expect(await rpmUsed(a.router)).toBe(16)

    await server.start()
    for (const { router } of [a, b]) {
      await eventually(async () => (await router.stats()).state === 'redis', 'the router back on Redis')
      expect((await router.stats()).stateNote).toBeUndefined()
    }
    for (const { logs } of [a, b]) {
      expect(stateLogs(logs).map((entry) => [entry.level, entry.message])).toEqual([
        ['warn', 'router state: redis unreachable, serving from memory'],
        ['info', 'router state: back on redis'],
      ])
    }
    // Shared again: the restarted Redis started empty, each instance wrote back the 15 requests it served
    // from memory during the outage, and A's new request shows in B's stats on top of those.
    await a.router.rerank(request)
    expect(await rpmUsed(b.router)).toBe(31)

    const published = JSON.stringify([a.logs, b.logs, await a.router.stats(), await b.router.stats()])
    expect(published).not.toContain(password)
  })

  it('fall back when Redis stalls (its commands time out), and come back when it answers', async () => {
    const { router, logs } = instance(uniquePrefix(), {
      deployments: [{ id: 'only', modelName: 'm', reranker: backend('only').reranker }],
    })
    await router.rerank(request)
    expect((await router.stats()).state).toBe('redis')
    server.pause()
    try {
      // The first call waits for the command timeout, then serves from memory; the next ones do not wait.
      for (let i = 0; i < 3; i++) expect(await servedBy(router.rerank(request))).toBe('only')
      expect((await router.stats()).state).toBe('memory')
    } finally {
      server.resume()
    }
    await eventually(async () => (await router.stats()).state === 'redis', 'the router back on Redis')
    expect(stateLogs(logs).map((entry) => entry.level)).toEqual(['warn', 'info'])
    expect(stateLogs(logs)[0]!.fields).toEqual({ reason: 'Command timed out' })
  })

  it('start on memory when Redis is down at start, and move to Redis once it is up', async () => {
    const late = await RedisServer.start()
    await late.stop()
    const { logger, entries } = recordingLogger()
    const router = new Router({
      deployments: [{ id: 'only', modelName: 'm', reranker: backend('only').reranker }],
      state: new FallbackState({ redis: new RedisState({ redis: late.url }), logger, retryIntervalMs: 200 }),
    })
    routers.push(router)
    try {
      expect(await servedBy(router.rerank(request))).toBe('only')
      expect((await router.stats()).state).toBe('memory')
      await late.start()
      await eventually(async () => (await router.stats()).state === 'redis', 'the router on Redis')
      expect(entries.map((entry) => entry.level)).toEqual(['warn', 'info'])
    } finally {
      await late.stop()
    }
  })
})

describe('routerFromConfig with redis_url', () => {
  it('keeps its state in Redis under the default prefix, and close() ends the connection', async () => {
    const config = parseRouterConfig({
      model_list: [{ model_name: 'm', litellm_params: { model: 'local' } }],
      router_settings: { redis_url: server.url },
    })
    const clients = async () =>
      String(await inspect.client('LIST'))
        .trim()
        .split('\n').length
    const before = await clients()
    const router = routerFromConfig(config, { local: backend('local').reranker })
    expect(await servedBy(router.rerank(request))).toBe('local')
    expect((await router.stats()).state).toBe('redis')
    const keys = await inspect.keys('rerank-kit:router:*')
    // Keyed by the deployment's state key (a hash of what it calls), not by its position (m#0).
    const stateKey = config.deployments[0]!.stateKey
    expect(stateKey).toMatch(/^m:[0-9a-f]{16}$/)
    expect(
      keys.filter((key) => key.startsWith(`rerank-kit:router:${stateKey}:`) && key.endsWith(':requests')),
    ).toHaveLength(1)
    expect(await clients()).toBe(before + 1)
    await router.close()
    await eventually(async () => (await clients()) === before, 'the connection closed', 5_000)
  })
})
