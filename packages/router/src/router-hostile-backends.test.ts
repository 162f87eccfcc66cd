import { RerankClient } from '@rerank-kit/client'
import { nodeHttpFetch } from '@rerank-kit/client/node'
import { RerankError, type RerankRequest } from '@rerank-kit/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type FakeFault,
  type FakeVendor,
  type FakeVendorKind,
  startFakeVendor,
} from '../../client/src/test-support/fake-vendors'
import type { RouterDeployment } from './deployment-runtime'
import { Router, type RouterOptions } from './router'
import { attemptsOf } from './router-failure'
import { chaosDocuments, chaosExpectedResults, chaosQuery } from './test-support/chaos-backends'
import { closedPort, recordingLogger, startHugeAnswerServer } from './test-support/hostile-backends'

// Backends that answer wrongly on purpose (a day-long Retry-After, a 401 echoing the key, too few results, a
// 200 MB body, a refused connection), each beside a healthy one: the router must fail the attempt, retry on
// the healthy deployment, and keep the backends' secrets out of the caller's error and out of every log line.

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

const secret = 'sk-live-ECHOED-4f2a9c'
const fetch = nodeHttpFetch()

async function vendor(kind: FakeVendorKind, fault?: (request: { body: unknown }) => FakeFault | undefined) {
  const started = await startFakeVendor(kind, fault ? { fault } : {})
  closers.push(() => started.close())
  return started
}

function deployment(
  id: string,
  target: FakeVendor | { url: string },
  format: Exclude<FakeVendorKind, 'vllm'>,
  priority: number,
  apiKey?: string,
): RouterDeployment {
  return {
    id,
    modelName: 'rerank',
    priority,
    reranker: new RerankClient({
      baseUrl: target.url,
      format,
      model: 'm',
      retry: false,
      timeoutMs: 10_000,
      fetch,
      ...(apiKey ? { apiKey } : {}),
    }),
  }
}

/** Priority-failover: the hostile deployment is always tried first, the healthy one after it. */
function router(deployments: RouterDeployment[], options: Partial<RouterOptions> = {}) {
  const made = new Router({ deployments, routingStrategy: 'priority-failover', retryDelayMs: 1, ...options })
  closers.push(() => made.close())
  return made
}

const request = (n: number, extra: Partial<RerankRequest> = {}): RerankRequest => ({
  query: chaosQuery(n),
  documents: chaosDocuments,
  ...extra,
})

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => {
      expect(RerankError.isInstance(error)).toBe(true)
      return error as RerankError
    },
  )

async function statsOf(made: Router, id: string) {
  return (await made.stats()).deployments.find((entry) => entry.id === id)!
}

describe('a backend answering 429 with Retry-After: 86400', () => {
  it('cools it down for max_cooldown_time at most, logs the cap, and never hands a caller a day', async () => {
    const limited = await vendor('cohere', () => ({ status: 429, headers: { 'retry-after': '86400' } }))
    const healthy = await vendor('tei')
    const { logger, lines } = recordingLogger()
    const made = router(
      [deployment('limited', limited, 'cohere', 0), deployment('healthy', healthy, 'tei', 1)],
      {
        logger,
      },
    )
    const before = Date.now()
    expect((await made.rerank(request(1))).results).toEqual(chaosExpectedResults)
    const until = Date.parse((await statsOf(made, 'limited')).coolingUntil!)
    expect(until).toBeGreaterThanOrEqual(before + 300_000)
    expect(until).toBeLessThanOrEqual(Date.now() + 300_000)
    expect(lines).toContainEqual({
      level: 'warn',
      message: 'backend Retry-After capped',
      fields: { deployment: 'limited', code: 'rate_limited', retryAfterMs: 86_400_000, cappedToMs: 300_000 },
    })

    // Alone, the backend's 429 reaches the caller with the capped Retry-After.
    const alone = router([deployment('limited', limited, 'cohere', 0)], { maxCooldownTimeMs: 60_000 })
    const error = await failure(alone.rerank(request(2)))
    expect(error.code).toBe('rate_limited')
    expect(error.retryAfterMs).toBe(60_000)
  })
})

describe('a backend answering 401 with the key in its message', () => {
  it('is a 502 naming the deployment, cooled down at once, retried on another; the key in no log', async () => {
    const message = `invalid api key ${secret} for http://10.0.0.7:8080/rerank?api_key=${secret}`
    const denied = await vendor('tei', () => ({ status: 401, message }))
    const healthy = await vendor('cohere')
    const { logger, text } = recordingLogger()
    const made = router(
      [deployment('denied', denied, 'tei', 0, secret), deployment('healthy', healthy, 'cohere', 1)],
      { logger },
    )
    expect((await made.rerank(request(1))).results).toEqual(chaosExpectedResults)
    const stats = await statsOf(made, 'denied')
    // One 401 is enough: a wrong key will not start working (LiteLLM cools 401s down at once).
    expect(stats.coolingUntil).toBeDefined()
    expect(stats.failures).toEqual({ upstream_error: 1 })
    expect(text()).toContain(
      '"message":"deployment cooling down","fields":{"deployment":"denied","code":"upstream_error","status":401',
    )
    expect(text()).not.toContain(secret)

    const alone = router([deployment('denied', denied, 'tei', 0, secret)], { logger })
    const error = await failure(alone.rerank(request(2)))
    expect([error.code, error.status, error.upstreamStatus]).toEqual(['upstream_error', 502, 401])
    // Cooled down at once, so not retried: the caller learns which deployment failed and how, by id only.
    expect(error.message).toMatch(
      /^All deployments of "rerank" failed: denied: upstream_error \(HTTP 401\); none left to try: denied is cooling down until /,
    )
    expect(error.publicMessage).toBe(error.message)
    expect(attemptsOf(error)).toEqual([
      {
        deployment: 'denied',
        group: 'rerank',
        code: 'upstream_error',
        status: 401,
        message: 'Deployment denied answered HTTP 401: misconfigured (its answer is not passed on)',
      },
    ])
    expect(JSON.stringify({ ...error, cause: String(error.cause) })).not.toContain(secret)
    expect(text()).not.toContain(secret)
  })

  it('treats a redirect, 403 and 404 alike: 502, never the backend status or text', async () => {
    const faults: FakeFault[] = [
      { status: 302, headers: { location: `http://127.0.0.1:1/rerank?key=${secret}` }, message: secret },
      { status: 403, message: `forbidden for ${secret}` },
      { status: 404, message: `no route /rerank?key=${secret}` },
    ]
    for (const fault of faults) {
      const backend = await vendor('jina', () => fault)
      const error = await failure(router([deployment('odd', backend, 'jina', 0)]).rerank(request(3)))
      expect([error.code, error.status, error.upstreamStatus]).toEqual(['upstream_error', 502, fault.status])
      expect(error.message).not.toContain(secret)
    }
  })
})

describe('answers that do not match the request', () => {
  const cohereBody = (results: { index: number; relevance_score: number }[]) => ({
    body: { id: 'x', results, meta: { billed_units: { search_units: 1 } } },
  })

  it('short, duplicate and out-of-range result lists fail the attempt and are retried elsewhere', async () => {
    const wrongAnswers = {
      short: [{ index: 0, relevance_score: 0.6 }],
      duplicate: [
        { index: 0, relevance_score: 0.6 },
        { index: 0, relevance_score: 0.6 },
        { index: 1, relevance_score: 0.1 },
      ],
      'out-of-range': [
        { index: 0, relevance_score: 0.6 },
        { index: 1, relevance_score: 0.5 },
        { index: 7, relevance_score: 0.1 },
      ],
    }
    for (const [id, results] of Object.entries(wrongAnswers)) {
      const wrong = await vendor('cohere', () => cohereBody(results))
      const healthy = await vendor('tei')
      const made = router([deployment(id, wrong, 'cohere', 0), deployment('healthy', healthy, 'tei', 1)])
      expect((await made.rerank(request(4))).results, id).toEqual(chaosExpectedResults)
      expect((await statsOf(made, id)).failures, id).toEqual({ upstream_error: 1 })
      expect(wrong.requests, id).toHaveLength(1)
      expect(healthy.requests, id).toHaveLength(1)
    }
  })

  it('counts against top_n: two results answer top_n 2, not top_n 3', async () => {
    const two = [
      { index: 0, relevance_score: 2 / 3 },
      { index: 2, relevance_score: 1 / 3 },
    ]
    const backend = await vendor('cohere', () => cohereBody(two))
    const made = router([deployment('two', backend, 'cohere', 0)])
    expect((await made.rerank(request(5, { topN: 2 }))).results).toEqual(chaosExpectedResults.slice(0, 2))
    const error = await failure(made.rerank(request(6, { topN: 3 })))
    expect(error.code).toBe('upstream_error')
    // A wrong answer would come back the same: the deployment is not asked again.
    expect(error.message).toBe('All deployments of "rerank" failed: two: upstream_error (wrong answer)')
    expect(attemptsOf(error)?.map((attempt) => attempt.message)).toEqual([
      'Deployment two answered wrongly: 2 results for 3 expected',
    ])
    expect(backend.requests).toHaveLength(2)
  })
})

describe('a backend answering 200 MB', () => {
  for (const declareLength of [false, true]) {
    it(`fails the attempt early (${declareLength ? 'declared' : 'chunked'}), RSS bounded`, async () => {
      const huge = await startHugeAnswerServer(200 * 1024 * 1024, { declareLength })
      closers.push(() => huge.close())
      const healthy = await vendor('tei')
      const made = router([deployment('huge', huge, 'tei', 0), deployment('healthy', healthy, 'tei', 1)])
      const rssBefore = process.memoryUsage().rss
      const started = performance.now()
      expect((await made.rerank(request(7))).results).toEqual(chaosExpectedResults)
      expect(performance.now() - started).toBeLessThan(5_000)
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024)
      expect((await statsOf(made, 'huge')).failures).toEqual({ upstream_error: 1 })
      // The read stopped near the bound (1 MiB and change here): only socket buffers' worth more was sent.
      expect(huge.sent).toBeLessThan(24 * 1024 * 1024)
    })
  }
})

describe('log lines and causes', () => {
  it('keeps the system error of a refused connection in the log and in the error', async () => {
    const port = await closedPort()
    const { logger, lines } = recordingLogger()
    const made = router([deployment('refused', { url: `http://127.0.0.1:${port}` }, 'tei', 0)], { logger })
    const error = await failure(made.rerank(request(8)))
    expect(error.code).toBe('network_error')
    // What a server logs for a 502 is the cause: it must say more than "fetch failed".
    expect(String(error.cause)).toMatch(/^Error: fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/)
    expect(lines).toContainEqual({
      level: 'warn',
      message: 'router group failed',
      // Alone in its group, the deployment is retried (numRetries 2): a restarting backend may be back.
      fields: {
        group: 'rerank',
        code: 'network_error',
        tried: Array(3).fill('refused: network_error (ECONNREFUSED)').join(', '),
      },
    })
  })

  it('logs a dead backend once, then one line with a count per interval, not a line per request', async () => {
    const dead = await vendor('tei', () => ({ status: 500, message: 'backend exploded' }))
    const { logger, lines } = recordingLogger()
    // No cooldown: every request reaches the dead backend and fails the same way.
    const made = router([deployment('dead', dead, 'tei', 0)], {
      logger,
      numRetries: 0,
      cooldownTimeMs: 0,
      repeatedLogIntervalMs: 300,
    })
    for (let n = 0; n < 50; n++) await failure(made.rerank(request(100 + n)))
    const groupFailed = () => lines.filter((line) => line.message === 'router group failed')
    expect(groupFailed().length).toBeLessThanOrEqual(3)
    await made.close()
    const counted = groupFailed().reduce((sum, line) => sum + Number(line.fields?.repeated ?? 1), 0)
    expect(counted).toBe(50)
    expect(groupFailed()[0]?.fields).toEqual({
      group: 'rerank',
      code: 'upstream_error',
      tried: 'dead: upstream_error (HTTP 500)',
    })
    expect(groupFailed().at(-1)?.fields).toMatchObject({ repeated: expect.any(Number), withinMs: 300 })
  })
})

describe('stats', () => {
  it('show the local fallback and what it served', async () => {
    const dead = await vendor('tei', () => ({ status: 500 }))
    const local = { rerank: async () => ({ results: chaosExpectedResults }) }
    const made = router([deployment('dead', dead, 'tei', 0)], { local, fallbackToLocal: true })
    expect((await made.rerank(request(9))).results).toEqual(chaosExpectedResults)
    expect((await made.stats()).localFallback).toMatchObject({
      enabled: true,
      requests: 1,
      successes: 1,
      failures: {},
    })
  })
})
