import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isDeepStrictEqual } from 'node:util'
import { RerankError, type RerankResponse } from '@rerank-kit/protocol'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { afterEach, describe, expect, it } from 'vitest'
import { Router } from './router'
import {
  type ChaosBackend,
  type ChaosName,
  chaosBehaviours,
  chaosDocuments,
  chaosExpectedResults,
  chaosKeyPrefix,
  chaosNames,
  chaosQuery,
  failingNames,
  receivedBy,
  startChaosBackends,
} from './test-support/chaos-backends'
import { mulberry32 } from './test-support/test-prng'

// Chaos: the router over real RerankClients and fake vendors on 127.0.0.1 that fail on every request in one
// way each (500, 429 with Retry-After, hang past the deadline, reset, malformed JSON) beside slow and healthy
// ones. Hundreds of concurrent requests; the checks hold whatever the interleaving, so no timing is asserted
// beyond "it ends", and every healthy client has a deadline a loaded machine cannot reach.

const started: ChaosBackend[] = []
const servers: Server[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((backend) => backend.vendor.close()))
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

async function startBackends(names: readonly ChaosName[] = chaosNames) {
  const backends = await startChaosBackends(names)
  started.push(...backends)
  const byName = (name: ChaosName) => backends.find((backend) => backend.name === name)!
  return { backends, byName }
}

function chaosRouter(backends: ChaosBackend[]) {
  return new Router({
    deployments: backends.map((backend) => backend.deployment()),
    // Enough attempts to reach every deployment: a request may fail only when none of them can answer.
    numRetries: backends.length - 1,
    retryDelayMs: 5,
    // Short, so a plain cooldown visibly ends within the test while a 60 s Retry-After does not.
    cooldownTimeMs: 200,
    random: mulberry32(20_251_123),
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(condition: () => boolean | Promise<boolean>, what: string) {
  for (let waited = 0; !(await condition()); waited += 5) {
    if (waited > 10_000) throw new Error(`timed out waiting until ${what}`)
    await sleep(5)
  }
}

const failureCodes = ['upstream_error', 'rate_limited', 'timeout', 'network_error', 'overloaded']

/**
 * Fires `count` concurrent requests (each with its own query, tagged by `tag`) and lists every broken
 * invariant: a backend that received one request twice (with `maxAttempts`: a request that reached the backends
 * more often than that, since a retry may go back to a deployment once every other one is out), an answer that
 * is not the healthy one or not from a healthy backend, a rejection that is not a RerankError with a clear code
 * and message.
 */
async function burst(
  router: Router,
  backends: ChaosBackend[],
  count: number,
  tag: string,
  signalFor?: (n: number) => AbortSignal,
  maxAttempts?: number,
) {
  const outcomes = await Promise.allSettled(
    Array.from({ length: count }, (_, n) =>
      router.rerank(
        { query: chaosQuery(n, tag), documents: chaosDocuments },
        signalFor ? { signal: signalFor(n) } : {},
      ),
    ),
  )
  const problems: string[] = []
  const answered: RerankResponse[] = []
  const errors: RerankError[] = []
  outcomes.forEach((outcome, n) => {
    const query = chaosQuery(n, tag)
    const seen = receivedBy(backends, query)
    if (maxAttempts === undefined) {
      for (const [name, times] of Object.entries(seen)) {
        if (times !== 1) problems.push(`${query}: ${name} received it ${times} times`)
      }
    } else if (sum(seen) > maxAttempts) {
      problems.push(`${query}: sent ${sum(seen)} times, more than ${maxAttempts} attempts`)
    }
    if (outcome.status === 'fulfilled') {
      answered.push(outcome.value)
      if (!isDeepStrictEqual(outcome.value.results, chaosExpectedResults)) {
        problems.push(`${query}: wrong answer ${JSON.stringify(outcome.value.results)}`)
      }
      const healthy = Object.keys(seen).filter((name) => chaosBehaviours[name as ChaosName].healthy)
      if (healthy.length !== 1) problems.push(`${query}: answered, but seen by healthy [${healthy}]`)
      return
    }
    const error: unknown = outcome.reason
    if (!RerankError.isInstance(error)) {
      problems.push(`${query}: rejected with a bare ${String(error)}`)
      return
    }
    errors.push(error)
    if (error.code === 'internal' || error.message.trim() === '') {
      problems.push(`${query}: unclear error ${error.code}: "${error.message}"`)
    }
  })
  return { outcomes, problems, answered, errors }
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((total, n) => total + n, 0)

describe('Router chaos: 200 concurrent requests over misbehaving backends', () => {
  it('every request is answered correctly by a healthy deployment; no backend gets a request twice', async () => {
    const { backends, byName } = await startBackends()
    const router = chaosRouter(backends)
    const before = Date.now()
    const first = await burst(router, backends, 200, 'a')

    expect(first.problems).toEqual([])
    // Sent = answered, and since every request could reach a healthy deployment, all were answered well.
    expect(first.outcomes).toHaveLength(200)
    expect(first.answered).toHaveLength(200)
    const stats = await router.stats()
    const calls = (name: ChaosName) => stats.deployments.find((d) => d.id === name)!.requests
    const received = (name: ChaosName) => byName(name).vendor.requests.length
    // The chaos was real: every failing deployment was in the path of some request.
    for (const name of failingNames) expect(calls(name), name).toBeGreaterThan(0)
    for (const deployment of stats.deployments) {
      const name = deployment.id as ChaosName
      // The router's count of calls is the backend's count of requests: nothing lost, nothing extra. But with
      // 200 connections opening at once, a call may time out before the hanging backend has even read it.
      if (name === 'hangs') expect(received(name), name).toBeLessThanOrEqual(deployment.requests)
      else expect(deployment.requests, name).toBe(received(name))
      expect(deployment.successes + sum(deployment.failures), name).toBe(deployment.requests)
      expect(deployment.inFlight, name).toBe(0)
    }
    // Each failure mode is counted under its own kind, against its own deployment only.
    expect(Object.fromEntries(stats.deployments.map((d) => [d.id, d.failures]))).toEqual({
      'always-500': { upstream_error: calls('always-500') },
      'rate-limited': { rate_limited: calls('rate-limited') },
      hangs: { timeout: calls('hangs') },
      resets: { network_error: calls('resets') },
      'malformed-json': { upstream_error: calls('malformed-json') },
      slow: {},
      'healthy-cohere': {},
      'healthy-tei': {},
    })
    expect(sum(Object.fromEntries(stats.deployments.map((d) => [d.id, d.successes])))).toBe(200)
    const text = JSON.stringify(stats)
    expect(text).not.toContain(chaosKeyPrefix)
    expect(text).not.toContain('127.0.0.1')
    // The 429's Retry-After (60 s) is believed over the router's own 200 ms cooldown.
    const limited = stats.deployments.find((d) => d.id === 'rate-limited')!
    expect(Date.parse(limited.coolingUntil!)).toBeGreaterThanOrEqual(before + 60_000)

    // Past every plain cooldown: the 500 backend gets its recovery trial, the rate-limited one nothing.
    await sleep(400)
    const limitedBefore = received('rate-limited')
    const failingBefore = received('always-500')
    const second = await burst(router, backends, 100, 'b')
    expect(second.problems).toEqual([])
    expect(second.answered).toHaveLength(100)
    expect(received('rate-limited')).toBe(limitedBefore)
    expect(received('always-500')).toBeGreaterThan(failingBefore)
    expect((await router.stats()).deployments.map((d) => d.inFlight)).toEqual(chaosNames.map(() => 0))
  })

  it('with every deployment failing, every request ends soon with a clear error', async () => {
    const { backends } = await startBackends(failingNames)
    const router = chaosRouter(backends)
    const startedAt = performance.now()
    // Every deployment fails, so a retry may go back to one already tried (not to one cooling down).
    const result = await burst(router, backends, 200, 'f', undefined, backends.length)
    const elapsedMs = performance.now() - startedAt

    expect(result.problems).toEqual([])
    expect(result.errors).toHaveLength(200)
    for (const error of result.errors) {
      expect(failureCodes).toContain(error.code)
      if (error.code === 'overloaded') {
        // The router's own refusal says why each deployment was out, and when to come back.
        expect(error.message).toMatch(/^No deployment of "chaos" is available: .*cooling down until/)
        expect(error.retryAfterMs).toBeGreaterThanOrEqual(0)
      }
    }
    // The hanging backend's answer would take 60 s: the client's 300 ms deadline ends it, and the burst.
    expect(elapsedMs).toBeLessThan(15_000)
    const stats = await router.stats()
    expect(stats.deployments.map((d) => [d.id, d.inFlight, d.successes])).toEqual(
      failingNames.map((name) => [name, 0, 0]),
    )
    expect(result.errors.map((error) => error.message).join('\n')).not.toContain(chaosKeyPrefix)
  })

  it('callers aborting at random moments: each request is answered or rejected as aborted', async () => {
    const { backends } = await startBackends()
    const router = chaosRouter(backends)
    const random = mulberry32(99)
    const timers: NodeJS.Timeout[] = []
    const signalFor = () => {
      const controller = new AbortController()
      // Half the callers give up somewhere in the first 400 ms: before, during and after their calls.
      if (random() < 0.5) timers.push(setTimeout(() => controller.abort(), random() * 400))
      return controller.signal
    }
    const result = await burst(router, backends, 200, 'c', signalFor)
    for (const timer of timers) clearTimeout(timer)

    expect(result.problems).toEqual([])
    expect(result.answered.length + result.errors.length).toBe(200)
    expect(result.errors.map((error) => error.code)).toEqual(result.errors.map(() => 'aborted'))
    const stats = await router.stats()
    expect(stats.deployments.map((d) => d.inFlight)).toEqual(chaosNames.map(() => 0))
    // A caller leaving is not the deployment's fault: no healthy deployment cooled down over it.
    for (const deployment of stats.deployments) {
      if (chaosBehaviours[deployment.id as ChaosName].healthy) {
        expect(deployment.coolingUntil, deployment.id).toBeUndefined()
      }
    }
  })
})

describe('Router chaos: the caller aborts one request', () => {
  it('mid-call: rejects as aborted, and no other deployment is tried', async () => {
    const { backends, byName } = await startBackends(['hangs', 'healthy-cohere'])
    const router = new Router({
      routingStrategy: 'priority-failover',
      deployments: [
        byName('hangs').deployment({ priority: 0, timeoutMs: 10_000 }),
        byName('healthy-cohere').deployment({ priority: 1 }),
      ],
      numRetries: 1,
      retryDelayMs: 1,
    })
    const controller = new AbortController()
    const query = chaosQuery(0, 'abort')
    const pending = router.rerank({ query, documents: chaosDocuments }, { signal: controller.signal })
    await until(() => byName('hangs').vendor.requests.length === 1, 'the hanging backend has the request')
    controller.abort(new Error('the user left'))

    const error: unknown = await pending.catch((thrown: unknown) => thrown)
    expect(RerankError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ code: 'aborted', status: 499 })
    // Well past the 1 ms retry delay: a retry would have reached the healthy backend by now.
    await sleep(100)
    expect(receivedBy(backends, query)).toEqual({ hangs: 1 })
    const stats = await router.stats()
    expect(stats.deployments.map((d) => [d.id, d.inFlight, d.coolingUntil])).toEqual([
      ['hangs', 0, undefined],
      ['healthy-cohere', 0, undefined],
    ])
  })

  it('during the backoff between attempts: rejects as aborted at once, the retry never happens', async () => {
    const { backends, byName } = await startBackends(['always-500', 'healthy-tei'])
    const router = new Router({
      routingStrategy: 'priority-failover',
      deployments: [
        byName('always-500').deployment({ priority: 0 }),
        byName('healthy-tei').deployment({ priority: 1 }),
      ],
      numRetries: 1,
      // A backoff of 10 to 20 s: only the abort can end this request within the test.
      retryDelayMs: 20_000,
    })
    const controller = new AbortController()
    const query = chaosQuery(0, 'backoff')
    const pending = router.rerank({ query, documents: chaosDocuments }, { signal: controller.signal })
    // Once the 500 is counted, the request is in its backoff.
    await until(
      async () => (await router.stats()).deployments[0]!.failures.upstream_error === 1,
      'the first attempt failed',
    )
    controller.abort()

    const error: unknown = await pending.catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ code: 'aborted' })
    expect(receivedBy(backends, query)).toEqual({ 'always-500': 1 })
    const stats = await router.stats()
    expect(stats.deployments.map((d) => [d.id, d.inFlight, d.failures])).toEqual([
      ['always-500', 0, { upstream_error: 1 }],
      ['healthy-tei', 0, {}],
    ])
  })
})

describe('Router chaos: regressions', () => {
  it('a 200 whose body is not JSON fails over to the next deployment and counts against its own', async () => {
    const { backends, byName } = await startBackends(['malformed-json', 'healthy-tei'])
    const router = new Router({
      routingStrategy: 'priority-failover',
      deployments: [
        byName('malformed-json').deployment({ priority: 0 }),
        byName('healthy-tei').deployment({ priority: 1 }),
      ],
      numRetries: 1,
      retryDelayMs: 1,
      allowedFails: 0,
    })
    const query = chaosQuery(0, 'malformed')
    // Read as a success status, this used to end the request with the unreadable answer's error.
    const response = await router.rerank({ query, documents: chaosDocuments })
    expect(response.results).toEqual(chaosExpectedResults)
    expect(receivedBy(backends, query)).toEqual({ 'malformed-json': 1, 'healthy-tei': 1 })
    const stats = await router.stats()
    expect(stats.deployments.map((d) => [d.id, d.failures, d.coolingUntil !== undefined])).toEqual([
      ['malformed-json', { upstream_error: 1 }, true],
      ['healthy-tei', {}, false],
    ])
  })

  it('after a cooldown, concurrent requests let exactly one half-open trial through', async () => {
    const { backends, byName } = await startBackends(['always-500', 'healthy-tei'])
    let clock = Date.UTC(2026, 0, 5, 9, 0, 0)
    const router = new Router({
      routingStrategy: 'priority-failover',
      deployments: [
        byName('always-500').deployment({ priority: 0 }),
        byName('healthy-tei').deployment({ priority: 1 }),
      ],
      numRetries: 1,
      retryDelayMs: 1,
      allowedFails: 0,
      cooldownTimeMs: 1_000,
      now: () => clock,
    })
    const one = (n: number) => router.rerank({ query: chaosQuery(n, 'trial'), documents: chaosDocuments })
    await one(0) // fails on always-500, which cools down; answered by healthy-tei
    await one(1) // sees the cooldown: always-500 is half-open from now on
    expect(byName('always-500').vendor.requests).toHaveLength(1)
    clock += 2_000
    // All 20 picks are made before any answer comes back: several used to find the trial free and take it.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => one(n + 2)))
    expect(answers.map((answer) => answer.results)).toEqual(answers.map(() => chaosExpectedResults))
    expect(byName('always-500').vendor.requests).toHaveLength(2)
    expect(receivedBy(backends, chaosQuery(0, 'trial'))).toEqual({ 'always-500': 1, 'healthy-tei': 1 })
  })

  it('max_parallel_requests holds when many requests pick at the same moment', async () => {
    const { byName } = await startBackends(['slow', 'healthy-tei'])
    const router = new Router({
      routingStrategy: 'priority-failover',
      deployments: [
        byName('slow').deployment({ priority: 0, maxParallelRequests: 2 }),
        byName('healthy-tei').deployment({ priority: 1 }),
      ],
    })
    // All 20 picks are made before the slow backend (100 ms) answers; each used to see a free slot.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        router.rerank({ query: chaosQuery(n, 'parallel'), documents: chaosDocuments }),
      ),
    )
    expect(answers.map((answer) => answer.results)).toEqual(answers.map(() => chaosExpectedResults))
    expect([byName('slow').vendor.requests.length, byName('healthy-tei').vendor.requests.length]).toEqual([
      2, 18,
    ])
    const stats = await router.stats()
    expect(stats.deployments.map((d) => [d.id, d.requests, d.inFlight])).toEqual([
      ['slow', 2, 0],
      ['healthy-tei', 18, 0],
    ])
  })
})

describe('Router chaos through the HTTP layer', () => {
  async function serve(router: Router): Promise<string> {
    const server = createServer(createNodeListener(createRerankHandler({ reranker: router })))
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  const post = async (url: string, query: string) => {
    const response = await fetch(`${url}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chaos', query, documents: chaosDocuments }),
    })
    return { status: response.status, text: await response.text() }
  }

  it('100 concurrent HTTP requests: each a 200 with the healthy answer in the route family shape', async () => {
    const { backends } = await startBackends()
    const url = await serve(chaosRouter(backends))
    const answers = await Promise.all(Array.from({ length: 100 }, (_, n) => post(url, chaosQuery(n, 'h'))))
    const cohereResults = chaosExpectedResults.map(({ index, score }) => ({ index, relevance_score: score }))
    for (const answer of answers) {
      expect(answer.status).toBe(200)
      expect((JSON.parse(answer.text) as { results: unknown }).results).toEqual(cohereResults)
    }
  })

  it('with every deployment failing: clear error statuses, and no key or backend address in any body', async () => {
    const { backends } = await startBackends(failingNames)
    const url = await serve(chaosRouter(backends))
    const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => post(url, chaosQuery(n, 'e'))))
    for (const answer of answers) {
      // 429 rate limited, 502 upstream failure or no connection, 503 none available, 504 timeout.
      expect([429, 502, 503, 504]).toContain(answer.status)
      expect((JSON.parse(answer.text) as { message: unknown }).message).toEqual(expect.any(String))
      expect(answer.text).not.toContain(chaosKeyPrefix)
      expect(answer.text).not.toContain('127.0.0.1')
    }
  })
})
