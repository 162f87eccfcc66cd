import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisState } from './redis-state'
import { minuteOf } from './router-state'
import { freePort, RedisServer } from './test-support/redis-server'

// Every RouterStateStore method against a real redis-server, checked through a second, plain client.

let server: RedisServer
let inspect: Redis
const opened: RedisState[] = []

beforeAll(async () => {
  server = await RedisServer.start()
  inspect = new Redis(server.url)
})

afterEach(async () => {
  await Promise.all(opened.splice(0).map((state) => state.close()))
})

afterAll(async () => {
  inspect?.disconnect()
  await server?.stop()
})

/** A store on its own connection and key prefix, ready to use. */
async function store(prefix = `test:${randomUUID()}:`) {
  const state = new RedisState({ redis: server.url, keyPrefix: prefix })
  opened.push(state)
  await state.ready(10_000)
  return { state, prefix }
}

// Mid-minute, so `now + 1` stays in the same minute.
const now = Date.UTC(2026, 10, 23, 12, 0, 30)
const minute = minuteOf(now)

describe('RedisState', () => {
  it('takes requests up to the limit, in a minute key with a TTL', async () => {
    const { state, prefix } = await store()
    expect(await state.takeRequest('a#0', 2, now)).toBe(true)
    expect(await state.takeRequest('a#0', 2, now + 1)).toBe(true)
    expect(await state.takeRequest('a#0', 2, now + 2)).toBe(false)
    // No limit: always counted.
    expect(await state.takeRequest('b#0', undefined, now)).toBe(true)
    const key = `${prefix}a#0:${minute}:requests`
    expect(await inspect.get(key)).toBe('2')
    const ttl = await inspect.ttl(key)
    expect(ttl).toBeGreaterThan(60)
    expect(ttl).toBeLessThanOrEqual(120)
    expect((await state.read(['a#0', 'b#0'], now)).get('a#0')).toEqual({ rpmUsed: 2, tpmUsed: 0 })
    // The next minute starts from zero.
    expect(await state.takeRequest('a#0', 2, now + 60_000)).toBe(true)
    expect((await state.read(['a#0'], now + 60_000)).get('a#0')!.rpmUsed).toBe(1)
  })

  it('lets exactly `limit` requests through when two instances race for them', async () => {
    const { state: first, prefix } = await store()
    const { state: second } = await store(prefix)
    const attempts = Array.from({ length: 30 }, (_, i) =>
      (i % 2 === 0 ? first : second).takeRequest('shared#0', 7, now),
    )
    const taken = (await Promise.all(attempts)).filter(Boolean)
    expect(taken).toHaveLength(7)
    expect(await inspect.get(`${prefix}shared#0:${minute}:requests`)).toBe('7')
  })

  it('adds tokens and counts outcomes and failures of the minute', async () => {
    const { state, prefix } = await store()
    await state.addTokens('a#0', 30, now)
    await state.addTokens('a#0', 11.2, now) // whole tokens only: rounded up
    expect((await state.read(['a#0'], now)).get('a#0')).toEqual({ rpmUsed: 0, tpmUsed: 42 })
    expect(await inspect.ttl(`${prefix}a#0:${minute}:tokens`)).toBeGreaterThan(60)
    expect(await state.recordOutcome('a#0', false, now)).toEqual({ requests: 1, failures: 0 })
    expect(await state.recordOutcome('a#0', true, now)).toEqual({ requests: 2, failures: 1 })
    expect(await state.recordOutcome('a#0', true, now)).toEqual({ requests: 3, failures: 2 })
    expect(await inspect.ttl(`${prefix}a#0:${minute}:failures`)).toBeGreaterThan(60)
    expect(await state.recordOutcome('a#0', true, now + 60_000)).toEqual({ requests: 1, failures: 1 })
  })

  it('keeps the later of two cooldowns, in a key expiring when the cooldown ends', async () => {
    const { state, prefix } = await store()
    const start = Date.now()
    await state.coolDown('a#0', start + 30_000)
    await state.coolDown('a#0', start + 10_000) // earlier: ignored
    expect((await state.read(['a#0'], start)).get('a#0')).toEqual({
      rpmUsed: 0,
      tpmUsed: 0,
      coolingUntil: start + 30_000,
    })
    const pttl = await inspect.pttl(`${prefix}a#0:cooldown`)
    expect(pttl).toBeGreaterThan(10_000)
    expect(pttl).toBeLessThanOrEqual(30_000)
    await state.coolDown('a#0', start + 45_000) // later: extends
    expect((await state.read(['a#0'], start)).get('a#0')!.coolingUntil).toBe(start + 45_000)
    // Read with a clock past the end: not cooling, even before Redis expires the key.
    expect((await state.read(['a#0'], start + 45_000)).get('a#0')!.coolingUntil).toBeUndefined()
  })

  it('recovers: the cooldown and the minute failures are gone, usage stays', async () => {
    const { state, prefix } = await store()
    const start = Date.now()
    await state.takeRequest('a#0', undefined, start)
    await state.recordOutcome('a#0', true, start)
    await state.recordOutcome('a#0', true, start)
    await state.coolDown('a#0', start + 30_000)
    await state.recover('a#0', start)
    expect(await inspect.exists(`${prefix}a#0:cooldown`)).toBe(0)
    expect((await state.read(['a#0'], start)).get('a#0')).toEqual({ rpmUsed: 1, tpmUsed: 0 })
    expect(await state.recordOutcome('a#0', false, start)).toEqual({ requests: 1, failures: 0 })
  })

  it('reads every deployment in one command, and writes only under its prefix', async () => {
    const { state, prefix } = await store()
    await state.takeRequest('a#0', undefined, now)
    await state.addTokens('b#0', 5, now)
    await inspect.config('RESETSTAT')
    const read = await state.read(['a#0', 'b#0', 'c#0'], now)
    // Commands since the reset, apart from the ones this test sends to look.
    const commands = (await inspect.info('commandstats'))
      .split('\n')
      .map((line) => line.match(/^cmdstat_(\w+):calls=(\d+)/))
      .filter((match) => match !== null && !['info', 'config'].includes(match[1]!))
      .map((match) => `${match![1]} x${match![2]}`)
    expect(commands).toEqual(['mget x1'])
    expect(Object.fromEntries(read)).toEqual({
      'a#0': { rpmUsed: 1, tpmUsed: 0 },
      'b#0': { rpmUsed: 0, tpmUsed: 5 },
      'c#0': { rpmUsed: 0, tpmUsed: 0 },
    })
    expect((await state.read([], now)).size).toBe(0)
    const keys = await inspect.keys(`${prefix}*`)
    expect(keys.sort()).toEqual([`${prefix}a#0:${minute}:requests`, `${prefix}b#0:${minute}:tokens`])
  })

  it('fails fast, without queueing, when Redis is not there', async () => {
    const state = new RedisState({ redis: `redis://127.0.0.1:${await freePort()}` })
    opened.push(state)
    await expect(state.ready(10_000)).rejects.toThrow(/ECONNREFUSED/)
    const started = Date.now()
    await expect(state.takeRequest('a#0', 1, now)).rejects.toThrow()
    await expect(state.read(['a#0'], now)).rejects.toThrow()
    // Loose on purpose: a queued command would wait for a reconnection that never comes (the test's timeout).
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('quits its own client on close, and leaves a client it was given open', async () => {
    const { state } = await store()
    await state.close()
    expect(state.client.status).toBe('end')
    const client = new Redis(server.url)
    const borrowed = new RedisState({ redis: client, keyPrefix: `test:${randomUUID()}:` })
    await borrowed.ready(10_000)
    await borrowed.close()
    expect(await client.ping()).toBe('PONG')
    client.disconnect()
  })
})
