import { describe, expect, it } from 'vitest'
import { callOrder, request, scripted, testRouter, upstream } from './test-support/scripted-deployments'

// numRetries beyond the group's size: untried deployments first, then back to those tried, after the backoff
// and the Retry-After they asked for; never to one cooling down, nor to one whose failure would repeat.

describe('Router retries: a group of one', () => {
  it('is retried numRetries times on its one deployment', async () => {
    const only = scripted('only', [upstream(500), upstream(502)])
    const { router } = testRouter([{ modelName: 'g', reranker: only.reranker }], { allowedFails: 10 })
    await expect(router.rerank(request)).resolves.toMatchObject({ model: 'g' })
    expect(only.calls).toHaveLength(3)
    const failing = scripted('failing', [upstream(500), upstream(500), upstream(500), upstream(500)])
    const { router: short } = testRouter([{ modelName: 'g', reranker: failing.reranker }], {
      numRetries: 1,
      allowedFails: 10,
    })
    await expect(short.rerank(request)).rejects.toMatchObject({ code: 'upstream_error', upstreamStatus: 500 })
    expect(failing.calls).toHaveLength(2)
  })

  it("waits for the failure's Retry-After before going back, not only the backoff", async () => {
    const only = scripted('only', [upstream(503, 200)])
    const { router } = testRouter([{ modelName: 'g', reranker: only.reranker }], { allowedFails: 10 })
    await router.rerank(request)
    expect(only.calls).toHaveLength(2)
    // The retry came after the 200 ms the backend asked for (timers may fire a hair early).
    expect(only.callTimes[1]! - only.callTimes[0]!).toBeGreaterThanOrEqual(195)
  })

  it('does not wait for a Retry-After longer than maxRetryWaitMs: it fails at once, handing it on', async () => {
    const only = scripted('only', [upstream(503, 30_000)])
    const { router } = testRouter([{ modelName: 'g', reranker: only.reranker }], {
      allowedFails: 10,
      maxRetryWaitMs: 1_000,
    })
    const started = performance.now()
    await expect(router.rerank(request)).rejects.toMatchObject({
      code: 'overloaded',
      status: 503,
      retryAfterMs: 30_000,
    })
    expect(performance.now() - started).toBeLessThan(500)
    expect(only.calls).toHaveLength(1)
  })

  it('an abort during the Retry-After wait ends the request at once', async () => {
    const only = scripted('only', [upstream(503, 5_000)])
    const { router } = testRouter([{ modelName: 'g', reranker: only.reranker }], { allowedFails: 10 })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 30)
    const started = performance.now()
    await expect(router.rerank(request, { signal: controller.signal })).rejects.toMatchObject({
      code: 'aborted',
    })
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(only.calls).toHaveLength(1)
  })

  it('a deployment cooling down is not retried: its cooldown stands', async () => {
    const only = scripted('only', [upstream(429, 2_000)])
    const { router } = testRouter([{ modelName: 'g', reranker: only.reranker }])
    await expect(router.rerank(request)).rejects.toMatchObject({
      code: 'rate_limited',
      status: 429,
      retryAfterMs: 2_000,
    })
    expect(only.calls).toHaveLength(1)
  })

  it('a misconfigured deployment (404) or a wrong answer is not asked again', async () => {
    const missing = scripted('missing', [upstream(404)])
    const { router } = testRouter([{ modelName: 'g', reranker: missing.reranker }])
    const error = await router.rerank(request).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ code: 'upstream_error', upstreamStatus: 404 })
    // Nothing will be back soon: no Retry-After invites the caller to try again.
    expect(error).not.toHaveProperty('retryAfterMs')
    expect(missing.calls).toHaveLength(1)
    const short = scripted('short')
    const wrong = {
      rerank: async (asked: typeof request) => ({
        ...(await short.reranker.rerank(asked)),
        results: [{ index: 0, score: 1 }],
      }),
    }
    const { router: other } = testRouter([{ modelName: 'g', reranker: wrong }])
    await expect(other.rerank(request)).rejects.toMatchObject({ code: 'upstream_error' })
    expect(short.calls).toHaveLength(1)
  })
})

describe('Router retries: several deployments', () => {
  it('tries every deployment once before going back to any', async () => {
    const failing = () => [upstream(500), upstream(500), upstream(500)]
    const a = scripted('a', failing())
    const b = scripted('b', failing())
    const c = scripted('c', failing())
    const { router } = testRouter(
      [
        { modelName: 'g', reranker: a.reranker },
        { modelName: 'g', reranker: b.reranker },
        { modelName: 'g', reranker: c.reranker },
      ],
      { numRetries: 4, allowedFails: 10 },
    )
    const error = await router.rerank(request).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ message: expect.stringMatching(/^All deployments of "g" failed: /) })
    const order = callOrder(a, b, c)
    expect(order).toHaveLength(5)
    expect(new Set(order.slice(0, 3))).toEqual(new Set(['a', 'b', 'c']))
    // The two retries beyond the group's size went back to deployments already tried.
    expect([a.calls.length, b.calls.length, c.calls.length].sort()).toEqual([1, 2, 2])
  })

  it('goes back only to deployments not cooling down', async () => {
    const limited = scripted('limited', [upstream(429, 60_000)])
    const flaky = scripted('flaky', [upstream(503)])
    const { router } = testRouter(
      [
        { modelName: 'g', reranker: limited.reranker, priority: 0 },
        { modelName: 'g', reranker: flaky.reranker, priority: 1 },
      ],
      { routingStrategy: 'priority-failover', allowedFails: 10 },
    )
    await router.rerank(request)
    expect(callOrder(limited, flaky)).toEqual(['limited', 'flaky', 'flaky'])
  })
})
