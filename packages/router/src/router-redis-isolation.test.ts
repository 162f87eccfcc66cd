import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type FakeFault, startFakeVendor } from '../../client/src/test-support/fake-vendors'
import { parseRouterConfig } from './config'
import type { Router } from './router'
import { routerFromConfig } from './router-from-config'
import { chaosDocuments, chaosExpectedResults, chaosQuery } from './test-support/chaos-backends'
import { closedPort, recordingLogger } from './test-support/hostile-backends'
import { RedisServer } from './test-support/redis-server'

// Balancers built from different YAML configs on one real redis-server: each deployment's state is keyed by
// the backend it calls (not by `rerank#0`), under a configurable namespace, so two configs never share
// counters or cooldowns by accident; a backend's day-long Retry-After is stored capped; and neither the
// Redis password nor its host:port reaches a log line or the stats.

const password = 'redis-pw-0d9e-secret'
let server: RedisServer
let inspect: Redis
const closers: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  server = await RedisServer.start({ password })
  inspect = new Redis(server.url)
})
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})
afterAll(async () => {
  inspect.disconnect()
  await server.stop()
})

async function vendor(fault?: FakeFault) {
  const started = await startFakeVendor('tei', fault ? { fault: () => fault } : {})
  closers.push(() => started.close())
  return started
}

function balancer(apiBase: string, settings: Record<string, unknown>, logger = recordingLogger().logger) {
  const config = parseRouterConfig(
    {
      model_list: [{ model_name: 'rerank', litellm_params: { api_base: apiBase, format: 'tei' } }],
      router_settings: { redis_url: server.url, retry_after: 0, ...settings },
    },
    {},
  )
  const router = routerFromConfig(config, { logger })
  closers.push(() => router.close())
  return { router, config }
}

const request = (n: number) => ({ query: chaosQuery(n), documents: chaosDocuments })
const only = async (router: Router) => (await router.stats()).deployments[0]!

describe('two balancers with different configs on one Redis', () => {
  it('share no counters and no cooldowns, though both call their deployment rerank#0', async () => {
    const namespace = `test-${randomUUID()}`
    const dead = await vendor({ status: 500 })
    const healthy = await vendor()
    const a = balancer(dead.url, { redis_namespace: namespace, allowed_fails: 0 })
    const b = balancer(healthy.url, { redis_namespace: namespace })
    expect(a.config.deployments[0]?.id).toBe('rerank#0')
    expect(b.config.deployments[0]?.id).toBe('rerank#0')

    await expect(a.router.rerank(request(1))).rejects.toMatchObject({ code: 'upstream_error' })
    expect((await only(a.router)).coolingUntil).toBeDefined()
    for (let n = 2; n < 5; n++)
      expect((await b.router.rerank(request(n))).results).toEqual(chaosExpectedResults)
    expect(await only(b.router)).toMatchObject({ coolingUntil: undefined, rpmUsed: 3 })
    expect((await only(a.router)).rpmUsed).toBe(1)
    // Every key under the namespace, and none under the default prefix.
    const keys = await inspect.keys(`${namespace}:*`)
    expect(keys.some((key) => key.startsWith(`${namespace}:${a.config.deployments[0]?.stateKey}:`))).toBe(
      true,
    )
    expect(keys.some((key) => key.startsWith(`${namespace}:${b.config.deployments[0]?.stateKey}:`))).toBe(
      true,
    )
    expect(keys.filter((key) => key.includes('rerank#0'))).toEqual([])
  })

  it('with the same config but another namespace, share nothing either', async () => {
    const healthy = await vendor()
    const a = balancer(healthy.url, { redis_namespace: `test-${randomUUID()}` })
    const c = balancer(healthy.url, { redis_namespace: `test-${randomUUID()}` })
    await a.router.rerank(request(5))
    expect((await only(a.router)).rpmUsed).toBe(1)
    expect((await only(c.router)).rpmUsed).toBe(0)
  })
})

describe('a day-long Retry-After in shared state', () => {
  it('is stored capped: the cooldown key expires within max_cooldown_time', async () => {
    const namespace = `test-${randomUUID()}`
    const limited = await vendor({ status: 429, headers: { 'retry-after': '86400' } })
    const { router, config } = balancer(limited.url, { redis_namespace: namespace, max_cooldown_time: 120 })
    await expect(router.rerank(request(6))).rejects.toMatchObject({
      code: 'rate_limited',
      retryAfterMs: 120_000,
    })
    const ttl = await inspect.pttl(`${namespace}:${config.deployments[0]?.stateKey}:cooldown`)
    expect(ttl).toBeGreaterThan(100_000)
    expect(ttl).toBeLessThanOrEqual(120_000)
  })
})

describe('the Redis URL and its password', () => {
  it('never reach a log line or the stats: wrong password, refused connection', async () => {
    const healthy = await vendor()
    const port = await closedPort()
    const cases = [
      { url: `redis://:wrong-${password}@127.0.0.1:${server.port}`, reason: /^redis refused \(WRONGPASS\)$/ },
      { url: `redis://:${password}@127.0.0.1:${port}`, reason: /^redis connection failed \(ECONNREFUSED\)$/ },
    ]
    for (const { url, reason } of cases) {
      const { logger, lines, text } = recordingLogger()
      const { router } = balancer(healthy.url, { redis_url: url }, logger)
      expect((await router.rerank(request(7))).results).toEqual(chaosExpectedResults)
      const stats = JSON.stringify(await router.stats())
      const fallback = lines.find(
        (line) => line.message === 'router state: redis unreachable, serving from memory',
      )
      expect(String(fallback?.fields?.reason)).toMatch(reason)
      for (const secret of [password, `:${server.port}`, `:${port}`]) {
        expect(text()).not.toContain(secret)
        expect(stats).not.toContain(secret)
      }
    }
  })
})
