import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisServer } from '../../../packages/router/src/test-support/redis-server'
import { killExamples, type RunningExample, runExample } from '../../test-support/run-example'

// The example runs as its own process against a throwaway redis-server (the router tests' helper): two router
// instances over one backend with rpm 4 must let exactly 4 requests through between them.

const exampleDir = join(import.meta.dirname, '..')
const rerank = (url: string) =>
  fetch(`${url}/v1/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'capital of France', documents: ['Paris', 'Berlin'] }),
  })

interface RouterStats {
  state: string
  stateNote?: string
  deployments: { id: string; successes: number; rpmUsed: number; rpm: number }[]
}
const statsOf = async (url: string) => (await (await fetch(`${url}/lb/stats`)).json()) as RouterStats

let redis: RedisServer
let app: RunningExample
const urls: Record<'A' | 'B', string> = { A: '', B: '' }
beforeAll(async () => {
  redis = await RedisServer.start()
  app = runExample(exampleDir, [], { REDIS_URL: redis.url, PORT_A: '0', PORT_B: '0', RPM: '4' })
  for (const name of ['A', 'B'] as const) {
    const [, state, url] = await app.waitFor(
      new RegExp(`^router ${name} \\(state: (\\w+)\\) listening on (http://\\S+)$`, 'm'),
    )
    expect(state).toBe('redis')
    urls[name] = url!
  }
}, 90_000)
afterAll(async () => {
  killExamples()
  await redis?.stop()
})

describe('multi-instance', () => {
  it('holds rpm 4 across both routers: 4 successes in all, then 429 with a Retry-After on either', async () => {
    // The limit counts per clock minute: start with enough of it left that all requests fall in the same one.
    const intoMinute = Date.now() % 60_000
    if (intoMinute > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute))

    const statuses = async (name: 'A' | 'B', count: number) => {
      const answers: Response[] = []
      for (let i = 0; i < count; i++) answers.push(await rerank(urls[name]))
      return answers
    }
    const first = await statuses('A', 3) // A alone would allow 4...
    const second = await statuses('B', 3) // ...and B too: but B sees A's 3 in Redis and lets 1 through
    const third = await statuses('A', 1)
    expect([first, second, third].map((answers) => answers.map((answer) => answer.status))).toEqual([
      [200, 200, 200],
      [200, 429, 429],
      [429],
    ])
    for (const refused of [...second.slice(1), ...third]) {
      const retryAfter = Number(refused.headers.get('retry-after'))
      expect(retryAfter).toBeGreaterThan(0)
      expect(retryAfter).toBeLessThanOrEqual(60)
      expect(await refused.json()).toEqual({
        message: 'No deployment of "rerank" is available: tiny-bert is at its rpm limit (4/min)',
      })
    }

    const [a, b] = [await statsOf(urls.A), await statsOf(urls.B)]
    for (const stats of [a, b]) {
      expect(stats.state).toBe('redis')
      expect(stats.stateNote).toBeUndefined()
      // The minute's usage is read from Redis: the same on both instances.
      expect(stats.deployments).toEqual([expect.objectContaining({ id: 'tiny-bert', rpm: 4, rpmUsed: 4 })])
    }
    expect([a.deployments[0]!.successes, b.deployments[0]!.successes]).toEqual([3, 1])
    // The Redis URL stays out of the stats.
    expect(JSON.stringify([a, b])).not.toContain(String(redis.port))
  }, 90_000)

  it('exits 0 on SIGTERM', async () => {
    app.child.kill('SIGTERM')
    expect(await app.exited, app.output()).toBe(0)
    expect(app.output()).toContain('multi-instance stopped')
  })

  it('refuses to start without REDIS_URL', async () => {
    const script = runExample(exampleDir, [], { REDIS_URL: '' })
    expect(await script.exited).toBe(1)
    expect(script.output()).toContain('Set REDIS_URL')
  })
})
