import { describe, expect, it } from 'vitest'
import { request, scripted, testRouter, upstream } from './test-support/scripted-deployments'

// The attempt-duration histogram each deployment keeps for /metrics (rerank_kit_router_attempt_duration_seconds):
// cumulative buckets in seconds, every attempt counted, whether it answered, failed or was retried elsewhere.

describe('Router stats: attempt durations', () => {
  it('counts every attempt of each deployment, failed ones too, in cumulative buckets of seconds', async () => {
    // a fails once (500) and the retry goes to b; b is slow once (60 ms); then each answers at once.
    const a = scripted('a', [upstream(500)])
    const b = scripted('b', [{ delayMs: 60 }])
    const { router } = testRouter(
      [
        { id: 'a', modelName: 'g', reranker: a.reranker },
        { id: 'b', modelName: 'g', reranker: b.reranker },
      ],
      { numRetries: 1, allowedFails: 5 },
    )
    await router.rerank(request)
    await router.rerank(request)
    await router.rerank(request)
    const stats = await router.stats()
    const of = (id: string) => stats.deployments.find((deployment) => deployment.id === id)!.attemptSeconds
    expect(a.calls.length + b.calls.length).toBe(4)
    for (const [id, calls] of [
      ['a', a.calls.length],
      ['b', b.calls.length],
    ] as const) {
      const histogram = of(id)
      expect(histogram.count, id).toBe(calls)
      // Cumulative: never decreasing, and the last finite bound (30 s) holds every attempt of this test.
      expect(histogram.counts).toEqual([...histogram.counts].sort((x, y) => x - y))
      expect(histogram.counts.at(-1)).toBe(calls)
      expect(histogram.le).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
    }
    // b's slow answer (60 ms) is above the 50 ms bound, its fast ones below it.
    const slow = of('b')
    expect(slow.sum).toBeGreaterThanOrEqual(0.055)
    expect(slow.counts[slow.le.indexOf(0.05)]).toBe(b.calls.length - 1)
    // The failed attempt on a is counted as well: a was called for the first request, which failed there.
    expect(stats.deployments.find((deployment) => deployment.id === 'a')!.failures).toEqual({
      upstream_error: 1,
    })
    expect(of('a').count).toBe(a.calls.length)
  })
})
