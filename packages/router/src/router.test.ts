import { codeFromStatus, RerankError, type Reranker, type RerankRequest } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import type { RouterDeployment } from './deployment-runtime'
import { MemoryState } from './memory-state'
import { Router, type RouterOptions } from './router'
import { attemptsOf } from './router-failure'
import { scriptedAnswer } from './test-support/scripted-deployments'

// Router semantics with in-process deployments whose answers are scripted, and a clock the test moves.

type Step = 'ok' | RerankError | { delayMs: number }

// The router answers with the group's name, not the deployment's: each scripted deployment logs its name when it
// answers, and a test reads who served a request from that log.
const served: string[] = []
async function servedBy(answer: Promise<unknown>): Promise<string | undefined> {
  await answer
  return served.at(-1)
}

/** A deployment that answers from a script (then "ok" forever) and records what it was asked. */
function scripted(name: string, steps: Step[] = []) {
  const calls: RerankRequest[] = []
  const reranker: Reranker = {
    async rerank(request, options) {
      calls.push(request)
      const step = steps.shift() ?? 'ok'
      if (step instanceof RerankError) throw step
      if (step !== 'ok') {
        await new Promise((resolve) => setTimeout(resolve, step.delayMs))
        if (options?.signal?.aborted) throw new RerankError('aborted', 'aborted')
      }
      served.push(name)
      return scriptedAnswer(request, name)
    },
  }
  return { reranker, calls }
}

const upstream = (status: number, retryAfterMs?: number) =>
  new RerankError(codeFromStatus(status), `HTTP ${status}`, {
    upstreamStatus: status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  })

const request = { query: 'q', documents: ['a', 'b'] }

function router(deployments: RouterDeployment[], options: Partial<RouterOptions> = {}) {
  let clock = Date.UTC(2026, 10, 23, 12, 0, 0)
  const instance = new Router({
    deployments,
    routingStrategy: 'round-robin',
    retryDelayMs: 1,
    now: () => clock,
    ...options,
  })
  const advance = (ms: number) => {
    clock += ms
  }
  return { router: instance, advance }
}

describe('Router: groups', () => {
  it('routes by model name, and a single group serves requests without one', async () => {
    const small = scripted('small')
    const large = scripted('large')
    const { router: r } = router([
      { modelName: 'small', reranker: small.reranker },
      { modelName: 'large', reranker: large.reranker },
    ])
    expect(await servedBy(r.rerank({ ...request, model: 'large' }))).toBe('large')
    expect(large.calls).toHaveLength(1)
    // The group name stays with the router: the deployment sends its own model upstream.
    expect(large.calls[0]!.model).toBeUndefined()
    await expect(r.rerank({ ...request, model: 'huge' })).rejects.toMatchObject({ code: 'model_not_found' })
    await expect(r.rerank(request)).rejects.toMatchObject({ code: 'invalid_request', param: 'model' })
    const single = router([{ modelName: 'small', reranker: small.reranker }]).router
    expect((await single.rerank(request)).results).toEqual([
      { index: 0, score: 0.5 },
      { index: 1, score: 1 / 3 },
    ])
    expect(r.modelNames).toEqual(['small', 'large'])
  })

  it("answers with the group's name and no backend id, whichever deployment or fallback served", async () => {
    const named = (reranker: Reranker): Reranker => ({
      async rerank(request, options) {
        const answer = await reranker.rerank(request, options)
        return { ...answer, id: 'backend-request-7', model: 'tiny-bert-reranker' }
      },
    })
    // Which deployment answered after how many attempts (the server's x-rerank-* headers): ids, never URLs.
    const ours = (model: string, deployment: string, attempts = 1) => ({
      model,
      results: expect.any(Array),
      usage: { totalTokens: 10 },
      routing: { deployment, attempts },
    })
    const primary = scripted('primary', [upstream(500)])
    const { router: r } = router(
      [
        { modelName: 'rerank', reranker: named(primary.reranker) },
        { modelName: 'backup', reranker: named(scripted('backup').reranker) },
      ],
      // No retry on the group's one deployment: its failure goes straight to the fallback.
      { fallbacks: { rerank: ['backup'] }, numRetries: 0 },
    )
    // The first call falls back to the 'backup' group: the caller still asked for 'rerank'.
    expect(await r.rerank({ ...request, model: 'rerank' })).toEqual(ours('rerank', 'backup#0', 2))
    expect(served.at(-1)).toBe('backup')
    expect(await r.rerank({ ...request, model: 'rerank' })).toEqual(ours('rerank', 'rerank#0'))
    expect(await r.rerank({ ...request, model: 'backup' })).toEqual(ours('backup', 'backup#0'))
    const single = router([{ modelName: 'rerank', reranker: named(scripted('only').reranker) }]).router
    expect(await single.rerank(request)).toEqual(ours('rerank', 'rerank#0'))
  })
})

describe('Router: retries', () => {
  it('re-picks only deployments not yet tried for the request', async () => {
    const a = scripted('a', [upstream(500)])
    const b = scripted('b', [upstream(503)])
    const c = scripted('c')
    const { router: r } = router(
      [
        { modelName: 'g', reranker: a.reranker, priority: 0 },
        { modelName: 'g', reranker: b.reranker, priority: 1 },
        { modelName: 'g', reranker: c.reranker, priority: 2 },
      ],
      { routingStrategy: 'priority-failover' },
    )
    expect(await servedBy(r.rerank(request))).toBe('c')
    expect([a.calls.length, b.calls.length, c.calls.length]).toEqual([1, 1, 1])
  })

  it('gives up after numRetries, with the last error', async () => {
    const a = scripted('a', [upstream(500)])
    const b = scripted('b', [upstream(502)])
    const c = scripted('c')
    const { router: r } = router(
      [
        { modelName: 'g', reranker: a.reranker, priority: 0 },
        { modelName: 'g', reranker: b.reranker, priority: 1 },
        { modelName: 'g', reranker: c.reranker, priority: 2 },
      ],
      { numRetries: 1, routingStrategy: 'priority-failover' },
    )
    await expect(r.rerank(request)).rejects.toMatchObject({ code: 'upstream_error', upstreamStatus: 502 })
    expect(c.calls).toHaveLength(0)
  })

  it("retries a backend's 408 elsewhere, counts it as a timeout, and answers a caller 504 when all time out", async () => {
    const a = scripted('a', [upstream(408), upstream(408)])
    const b = scripted('b')
    const { router: r } = router(
      [
        { modelName: 'g', reranker: a.reranker, priority: 0 },
        { modelName: 'g', reranker: b.reranker, priority: 1 },
      ],
      { routingStrategy: 'priority-failover' },
    )
    expect(await servedBy(r.rerank(request))).toBe('b')
    expect((await r.stats()).deployments[0]).toMatchObject({ id: 'g#0', failures: { timeout: 1 } })
    // Alone in its group, the deployment is retried numRetries (2) times, then the caller gets the 504.
    const alone = scripted('alone', [upstream(408), upstream(408), upstream(408)])
    const { router: single } = router([{ modelName: 'g', reranker: alone.reranker }])
    await expect(single.rerank(request)).rejects.toMatchObject({
      code: 'timeout',
      status: 504,
      upstreamStatus: 408,
    })
    expect(alone.calls).toHaveLength(3)
  })

  it('never retries a client error (other than 408 / 429), nor cools down for it', async () => {
    const a = scripted('a', [upstream(400), upstream(400), upstream(400), upstream(400)])
    const b = scripted('b')
    const { router: r } = router(
      [
        { modelName: 'g', reranker: a.reranker },
        { modelName: 'g', reranker: b.reranker },
      ],
      { allowedFails: 0 },
    )
    await expect(r.rerank(request)).rejects.toMatchObject({ code: 'invalid_request' })
    expect(b.calls).toHaveLength(0)
    expect((await r.stats()).deployments[0]).toMatchObject({
      id: 'g#0',
      coolingUntil: undefined,
      failures: { invalid_request: 1 },
    })
  })

  it('an abort is not retried', async () => {
    const a = scripted('a', [{ delayMs: 200 }])
    const b = scripted('b')
    const { router: r } = router([
      { modelName: 'g', reranker: a.reranker },
      { modelName: 'g', reranker: b.reranker },
    ])
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)
    await expect(r.rerank(request, { signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' })
    expect(b.calls).toHaveLength(0)
    // The abort is the caller's doing: counted apart, not as a failure of the deployment.
    const [statsA] = (await r.stats()).deployments
    expect(statsA).toMatchObject({ failures: {}, aborted: 1 })
  })

  it('a caller who aborts while a deployment fails gets "aborted", not that deployment\'s error', async () => {
    const controller = new AbortController()
    const failing: Reranker = {
      async rerank() {
        controller.abort()
        throw upstream(503)
      },
    }
    const b = scripted('b')
    const { router: r } = router([
      { modelName: 'g', reranker: failing },
      { modelName: 'g', reranker: b.reranker },
    ])
    await expect(r.rerank(request, { signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' })
    expect(b.calls).toHaveLength(0)
    // Already aborted: nothing is sent at all.
    await expect(r.rerank(request, { signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' })
    expect((await r.stats()).deployments.map((d) => d.requests)).toEqual([1, 0])
  })
})

describe('Router: state store failures', () => {
  it('a store that throws does not turn a backend answer or error into a state error', async () => {
    const broken = new MemoryState()
    const warnings: unknown[] = []
    broken.recordOutcome = async () => {
      throw new Error('store down')
    }
    const a = scripted('a', [upstream(500)])
    const { router: r } = router([{ modelName: 'g', reranker: a.reranker }], {
      state: broken,
      numRetries: 0,
      logger: { debug() {}, info() {}, warn: (...args) => warnings.push(args), error() {} },
    })
    await expect(r.rerank(request)).rejects.toMatchObject({ code: 'upstream_error', upstreamStatus: 500 })
    expect((await r.rerank(request)).results).toEqual([
      { index: 0, score: 0.5 },
      { index: 1, score: 1 / 3 },
    ])
    expect(warnings).toEqual([
      ['router state not updated', { deployment: 'g#0', code: 'internal' }],
      [
        'router group failed',
        { group: 'g', code: 'upstream_error', tried: 'g#0: upstream_error (HTTP 500)' },
      ],
      ['router state not updated', { deployment: 'g#0', code: 'internal' }],
    ])
  })
})

describe('Router: cooldowns', () => {
  it('cools a deployment down after allowed_fails, then lets one half-open trial through', async () => {
    const a = scripted('a', [upstream(500), upstream(500)])
    const b = scripted('b')
    const { router: r, advance } = router(
      [
        { modelName: 'g', reranker: a.reranker },
        { modelName: 'g', reranker: b.reranker },
      ],
      { allowedFails: 0, cooldownTimeMs: 5_000 },
    )
    expect(await servedBy(r.rerank(request))).toBe('b')
    const [cooling] = (await r.stats()).deployments
    expect(cooling).toMatchObject({
      id: 'g#0',
      coolingUntil: '2026-11-23T12:00:05.000Z',
      failures: { upstream_error: 1 },
    })
    for (let i = 0; i < 4; i++) expect(await servedBy(r.rerank(request))).toBe('b')
    expect(a.calls).toHaveLength(1)
    advance(5_001)
    // The trial fails: straight back to cooling down, whatever allowed_fails says.
    expect(await servedBy(r.rerank(request))).toBe('b')
    expect(a.calls).toHaveLength(2)
    expect((await r.stats()).deployments[0]!.coolingUntil).toBe('2026-11-23T12:00:10.001Z')
    advance(5_001)
    // A successful trial closes the circuit: a is back in the rotation.
    const models = []
    for (let i = 0; i < 4; i++) models.push(await servedBy(r.rerank(request)))
    expect(models.filter((m) => m === 'a').length).toBe(2)
    expect((await r.stats()).deployments[0]!.coolingUntil).toBeUndefined()
  })

  it('a 429 cools down at once, for as long as its Retry-After asks', async () => {
    const a = scripted('a', [upstream(429, 30_000)])
    const b = scripted('b')
    const { router: r } = router([
      { modelName: 'g', reranker: a.reranker },
      { modelName: 'g', reranker: b.reranker },
    ])
    expect(await servedBy(r.rerank(request))).toBe('b')
    expect((await r.stats()).deployments[0]!.coolingUntil).toBe('2026-11-23T12:00:30.000Z')
  })

  it('when every deployment is unavailable the error says why, with a retry hint', async () => {
    const a = scripted('a', [upstream(429, 10_000)])
    const { router: r } = router([
      { modelName: 'g', reranker: a.reranker },
      { modelName: 'g', reranker: scripted('b').reranker, rpm: 1 },
    ])
    await r.rerank(request) // a: 429 -> cooling; b answers (its one request this minute)
    const error = (await r.rerank(request).catch((e) => e)) as RerankError
    expect(error).toMatchObject({ code: 'overloaded', status: 503, retryAfterMs: 10_000 })
    expect(error.message).toBe(
      'No deployment of "g" is available: g#0 is cooling down until 2026-11-23T12:00:10.000Z; g#1 is at its rpm limit (1/min)',
    )
  })
})

describe('Router: limits', () => {
  it('rpm holds per minute and resets when the minute turns', async () => {
    const { router: r, advance } = router([
      { modelName: 'g', reranker: scripted('a').reranker, rpm: 2 },
      { modelName: 'g', reranker: scripted('b').reranker, rpm: 1 },
    ])
    for (let i = 0; i < 3; i++) await r.rerank(request)
    // Every deployment at its own rpm limit: rate limited (429), until the minute turns.
    await expect(r.rerank(request)).rejects.toMatchObject({
      code: 'rate_limited',
      status: 429,
      retryAfterMs: 60_000,
    })
    advance(60_000)
    await expect(r.rerank(request)).resolves.toBeDefined()
  })

  it('tpm is charged with the usage the backend reports', async () => {
    const { router: r } = router([{ modelName: 'g', reranker: scripted('a').reranker, tpm: 25 }])
    await r.rerank(request)
    await r.rerank(request)
    expect((await r.stats()).deployments[0]).toMatchObject({ tpmUsed: 20, rpmUsed: 2 })
    await r.rerank(request)
    await expect(r.rerank(request)).rejects.toMatchObject({
      message: expect.stringContaining('tpm limit (25/min)'),
    })
  })

  it('max_parallel_requests sends the overflow elsewhere', async () => {
    const slow = scripted('slow', [{ delayMs: 100 }])
    const other = scripted('other')
    const { router: r } = router([
      { modelName: 'g', reranker: slow.reranker, maxParallelRequests: 1 },
      { modelName: 'g', reranker: other.reranker },
    ])
    const first = r.rerank(request)
    await new Promise((resolve) => setTimeout(resolve, 10))
    // round-robin would pick the slow one next; it is full, so the other one answers.
    await Promise.all([first, r.rerank(request), r.rerank(request)])
    // The slow one, picked first, answers last.
    expect(served.slice(-3)).toEqual(['other', 'other', 'slow'])
    expect(slow.calls).toHaveLength(1)
    expect(other.calls).toHaveLength(2)
  })
})

describe('Router: fallbacks', () => {
  it('falls back to the next group after retries, then to the local model', async () => {
    const primary = scripted('primary', [upstream(500), upstream(500), upstream(500)])
    const secondary = scripted('secondary', [upstream(503), upstream(503), upstream(503)])
    const local = scripted('local')
    const { router: r } = router(
      [
        { modelName: 'primary', reranker: primary.reranker },
        { modelName: 'secondary', reranker: secondary.reranker },
      ],
      {
        fallbacks: { primary: ['secondary'] },
        local: local.reranker,
        fallbackToLocal: true,
        allowedFails: 10,
      },
    )
    expect(await servedBy(r.rerank({ ...request, model: 'primary' }))).toBe('local')
    // Each group's one deployment is tried 1 + numRetries times before the next group.
    expect([primary.calls.length, secondary.calls.length, local.calls.length]).toEqual([3, 3, 1])
    expect(await servedBy(r.rerank({ ...request, model: 'primary' }))).toBe('primary')
  })

  it("logs every failed deployment of each group; the caller's error lists them, by id only", async () => {
    const a = scripted('a', [upstream(500)])
    const b = scripted('b', [new RerankError('timeout', 'No answer within 100 ms')])
    const c = scripted('c', [upstream(503, 2_000)])
    const warnings: unknown[] = []
    const { router: r } = router(
      [
        { modelName: 'primary', reranker: a.reranker, id: 'a' },
        { modelName: 'primary', reranker: b.reranker, id: 'b' },
        { modelName: 'secondary', reranker: c.reranker, id: 'c' },
      ],
      {
        fallbacks: { primary: ['secondary'] },
        allowedFails: 10,
        // One retry: primary's two deployments once each. c's Retry-After (2 s) is more than a retry may wait.
        numRetries: 1,
        maxRetryWaitMs: 1_000,
        logger: { debug() {}, info() {}, warn: (...args) => warnings.push(args), error() {} },
      },
    )
    const error = await r.rerank({ ...request, model: 'primary' }).then(
      () => undefined,
      (thrown: RerankError) => thrown,
    )
    // The last failure's code, status and Retry-After; every attempt in the message and as data.
    expect(error).toMatchObject({ code: 'overloaded', upstreamStatus: 503, retryAfterMs: 2_000 })
    expect(error?.message).toBe(
      'Every group failed: "primary" (a: upstream_error (HTTP 500), b: timeout), then "secondary" (c: overloaded (HTTP 503))',
    )
    expect(error?.publicMessage).toBe(error?.message)
    expect(attemptsOf(error)).toEqual([
      { deployment: 'a', group: 'primary', code: 'upstream_error', status: 500, message: 'HTTP 500' },
      { deployment: 'b', group: 'primary', code: 'timeout', message: 'No answer within 100 ms' },
      { deployment: 'c', group: 'secondary', code: 'overloaded', status: 503, message: 'HTTP 503' },
    ])
    expect([a.calls.length, b.calls.length, c.calls.length]).toEqual([1, 1, 1])
    expect(warnings).toEqual([
      [
        'router group failed',
        { group: 'primary', code: 'timeout', tried: 'a: upstream_error (HTTP 500), b: timeout' },
      ],
      ['router group failed', { group: 'secondary', code: 'overloaded', tried: 'c: overloaded (HTTP 503)' }],
    ])
  })

  it('a 404 from a deployment falls back (LiteLLM skipped it); a 400 does not', async () => {
    const primary = scripted('primary', [upstream(404), upstream(400)])
    const secondary = scripted('secondary')
    const { router: r } = router(
      [
        { modelName: 'primary', reranker: primary.reranker },
        { modelName: 'secondary', reranker: secondary.reranker },
      ],
      { fallbacks: { primary: ['secondary'] } },
    )
    expect(await servedBy(r.rerank({ ...request, model: 'primary' }))).toBe('secondary')
    await expect(r.rerank({ ...request, model: 'primary' })).rejects.toMatchObject({
      code: 'invalid_request',
    })
    expect(secondary.calls).toHaveLength(1)
  })

  it('refuses a fallback to a group it does not have, in every fallback list', () => {
    const deployments = [{ modelName: 'a', reranker: scripted('a').reranker }]
    for (const lists of [
      { fallbacks: { a: ['b'] } },
      { defaultFallbacks: ['b'] },
      { contextWindowFallbacks: { a: ['b'] } },
    ]) {
      expect(() => new Router({ deployments, ...lists })).toThrow('Fallback names an unknown group "b"')
    }
  })

  it('default fallbacks serve a group without fallbacks of its own, never the group itself', async () => {
    const primary = scripted('primary', [upstream(500), upstream(500)])
    const spare = scripted('spare', [upstream(500)])
    const last = scripted('last')
    const { router: r } = router(
      [
        { modelName: 'primary', reranker: primary.reranker },
        { modelName: 'spare', reranker: spare.reranker },
        { modelName: 'last', reranker: last.reranker },
      ],
      { defaultFallbacks: ['spare', 'last'], allowedFails: 10, numRetries: 0 },
    )
    expect(await servedBy(r.rerank({ ...request, model: 'primary' }))).toBe('last')
    expect([primary.calls.length, spare.calls.length, last.calls.length]).toEqual([1, 1, 1])
    // `spare` failing falls back to `last` only: it is not its own fallback.
    const spareAgain = scripted('spare2', [upstream(500)])
    const { router: other } = router(
      [
        { modelName: 'spare', reranker: spareAgain.reranker },
        { modelName: 'last', reranker: last.reranker },
      ],
      { defaultFallbacks: ['spare', 'last'], allowedFails: 10, numRetries: 0 },
    )
    expect(await servedBy(other.rerank({ ...request, model: 'spare' }))).toBe('last')
    expect(spareAgain.calls).toHaveLength(1)
    // Own fallbacks replace the default list.
    const own = scripted('own', [upstream(500)])
    const { router: third } = router(
      [
        { modelName: 'own', reranker: own.reranker },
        { modelName: 'spare', reranker: scripted('spare3', [upstream(500)]).reranker },
        { modelName: 'last', reranker: last.reranker },
      ],
      { fallbacks: { own: ['spare'] }, defaultFallbacks: ['last'], allowedFails: 10, numRetries: 0 },
    )
    await expect(third.rerank({ ...request, model: 'own' })).rejects.toMatchObject({ code: 'upstream_error' })
  })

  it("a backend's 413 goes to the context window fallbacks; without them, or from our own check, it is answered", async () => {
    const short = scripted('short', [upstream(413), upstream(413)])
    const long = scripted('long')
    const other = scripted('other')
    const { router: r } = router(
      [
        { modelName: 'short', reranker: short.reranker },
        { modelName: 'long', reranker: long.reranker },
        { modelName: 'other', reranker: other.reranker },
      ],
      { fallbacks: { short: ['other'] }, contextWindowFallbacks: { short: ['long'] } },
    )
    // Not `other` (an ordinary fallback, for failures): the group that takes longer inputs.
    expect(await servedBy(r.rerank({ ...request, model: 'short' }))).toBe('long')
    expect([short.calls.length, long.calls.length, other.calls.length]).toEqual([1, 1, 0])
    const { router: plain } = router([{ modelName: 'short', reranker: short.reranker }])
    await expect(plain.rerank({ ...request, model: 'short' })).rejects.toMatchObject({
      code: 'payload_too_large',
      upstreamStatus: 413,
    })
    const ours = scripted('ours', [new RerankError('payload_too_large', 'Too many documents')])
    const { router: own } = router(
      [
        { modelName: 'ours', reranker: ours.reranker },
        { modelName: 'long', reranker: long.reranker },
      ],
      { contextWindowFallbacks: { ours: ['long'] } },
    )
    await expect(own.rerank({ ...request, model: 'ours' })).rejects.toMatchObject({
      code: 'payload_too_large',
    })
    expect(long.calls).toHaveLength(1)
  })
})
