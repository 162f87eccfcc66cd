import { describe, expect, it } from 'vitest'
import { MemoryState } from './memory-state'
import { Router } from './router'
import { request, scripted, testRouter, upstream } from './test-support/scripted-deployments'

// readiness() answers synchronously from what the router last saw of the shared state: picks, stats reads,
// health checks and a periodic refresh keep that view current.

describe('Router readiness', () => {
  it('flips to not ready when every deployment cools down, and back once the cooldowns end', async () => {
    const { router, advance } = testRouter(
      [
        { id: 'a', modelName: 'g', reranker: scripted('a', [upstream(429, 10_000)]).reranker },
        { id: 'b', modelName: 'g', reranker: scripted('b', [upstream(503)]).reranker },
        { id: 'c', modelName: 'h', reranker: scripted('c', [upstream(500)]).reranker },
      ],
      { allowedFails: 0, numRetries: 1, cooldownTimeMs: 5_000 },
    )
    expect(router.readiness()).toEqual({ ready: true })
    await expect(router.rerank({ ...request, model: 'g' })).rejects.toMatchObject({ code: 'overloaded' })
    // Group h still serves.
    expect(router.readiness()).toEqual({ ready: true })
    await expect(router.rerank({ ...request, model: 'h' })).rejects.toMatchObject({ code: 'upstream_error' })
    const down = router.readiness()
    expect(down.ready).toBe(false)
    expect(down.reason).toBe(
      'No group can serve: "g": a is cooling down until 2026-11-23T12:00:10.000Z, ' +
        'b is cooling down until 2026-11-23T12:00:05.000Z; "h": c is cooling down until 2026-11-23T12:00:05.000Z',
    )
    advance(5_000)
    expect(router.readiness()).toEqual({ ready: true })
  })

  it('is not ready when every deployment is at its limits, until the minute turns', async () => {
    const { router, advance } = testRouter([
      { id: 'a', modelName: 'g', reranker: scripted('a').reranker, rpm: 1 },
      { id: 'b', modelName: 'g', reranker: scripted('b').reranker, tpm: 10 },
    ])
    await router.rerank(request)
    await router.rerank(request)
    expect(router.readiness()).toEqual({
      ready: false,
      reason: 'No group can serve: "g": a is at its rpm limit (1/min), b is at its tpm limit (10/min)',
    })
    advance(60_000)
    expect(router.readiness().ready).toBe(true)
  })

  it('is ready while the local model can take over, whatever the deployments', async () => {
    const { router } = testRouter(
      [{ id: 'a', modelName: 'g', reranker: scripted('a', [upstream(429)]).reranker }],
      {
        local: scripted('local').reranker,
        fallbackToLocal: true,
      },
    )
    await router.rerank(request)
    expect(router.readiness()).toEqual({ ready: true })
  })

  it('learns of a cooldown another instance set from its periodic refresh, and close() stops it', async () => {
    const state = new MemoryState()
    let reads = 0
    const read = state.read.bind(state)
    state.read = (ids, now) => {
      reads++
      return read(ids, now)
    }
    const router = new Router({
      deployments: [{ id: 'a', modelName: 'g', reranker: scripted('a').reranker }],
      state,
      readinessRefreshMs: 10,
    })
    expect(router.readiness().ready).toBe(true)
    // Another instance sharing the state cools `a` down: no request of this one reads it.
    await state.coolDown('a', Date.now() + 60_000)
    await expect.poll(() => router.readiness().ready, { timeout: 2_000 }).toBe(false)
    expect(router.readiness().reason).toMatch(/^No group can serve: "g": a is cooling down until /)
    await router.close()
    const after = reads
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(reads).toBe(after)
  })

  it('a failed health check makes it not ready at once, a passing one ready again', async () => {
    let down = true
    const { router } = testRouter(
      [
        {
          id: 'a',
          modelName: 'g',
          reranker: scripted('a').reranker,
          healthCheck: async () => {
            if (down) throw upstream(503)
          },
        },
      ],
      { healthCheckIntervalMs: 3_600_000 },
    )
    await router.checkHealth()
    expect(router.readiness().ready).toBe(false)
    down = false
    await router.checkHealth()
    expect(router.readiness().ready).toBe(true)
    await router.close()
  })
})
