import { createServer } from 'node:http'
import { RerankError, type RerankRequest, type RerankResponse, rankScores } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import type { ServedReranker } from './handler-types'
import { limitInFlight } from './in-flight-limit'
import { createNodeListener } from './node-http'
import { listening } from './test-support/listening'
import { OverlapReranker } from './test-support/overlap-reranker'

/** A reranker whose calls wait until the test lets them go (or fail them): in-flight counts are exact. */
class GatedReranker implements ServedReranker {
  readonly modelNames = ['gated']
  isReady = true
  loadFailed = false
  isSaturated = false
  private readonly waiting: { release: () => void; fail: (error: Error) => void }[] = []

  async rerank(request: RerankRequest): Promise<RerankResponse> {
    await new Promise<void>((release, fail) => this.waiting.push({ release, fail }))
    return {
      model: 'gated',
      results: rankScores(
        request,
        request.documents.map(() => 0.5),
      ),
    }
  }

  releaseAll(): void {
    for (const call of this.waiting.splice(0)) call.release()
  }

  failAll(): void {
    for (const call of this.waiting.splice(0)) call.fail(new RerankError('upstream_error', 'backend down'))
  }

  stats() {
    return { calls: 'all of them' }
  }
}

const request = { query: 'capital of France', documents: ['Paris', 'Bananas'] }

async function refusal(call: Promise<unknown>) {
  try {
    await call
  } catch (error) {
    return error as RerankError
  }
  throw new Error('expected the call to be refused')
}

describe('limitInFlight', () => {
  it('runs calls up to the cap, refuses the next at once with a Retry-After, and frees slots as calls end', async () => {
    const inner = new GatedReranker()
    const limited = limitInFlight(inner, { maxInFlight: 2 })
    const first = limited.rerank(request)
    expect(limited.isSaturated).toBe(false)
    const second = limited.rerank(request)
    expect(limited.inFlight).toBe(2)
    expect(limited.isSaturated).toBe(true)

    const refused = await refusal(limited.rerank(request))
    expect(refused).toBeInstanceOf(RerankError)
    expect(refused).toMatchObject({ code: 'overloaded', status: 503, retryAfterMs: 1000 })
    expect(refused.message).toBe('The server is at its limit of 2 requests in flight')
    // The refusal took no slot.
    expect(limited.inFlight).toBe(2)

    inner.releaseAll()
    expect((await first).results).toHaveLength(2)
    expect((await second).model).toBe('gated')
    expect(limited.inFlight).toBe(0)
    expect(limited.isSaturated).toBe(false)

    // A failed call frees its slot too, and its error passes through unchanged.
    const failing = [limited.rerank(request), limited.rerank(request)]
    inner.failAll()
    for (const call of failing) expect((await refusal(call)).code).toBe('upstream_error')
    expect(limited.inFlight).toBe(0)
  })

  it('passes through what the handler reads, live, and the wrapped saturation', () => {
    const inner = new GatedReranker()
    const limited = limitInFlight(inner, { maxInFlight: 5, retryAfterMs: 2500 })
    expect(limited.modelNames).toEqual(['gated'])
    expect(limited.stats?.()).toEqual({ calls: 'all of them' })
    expect([limited.isReady, limited.loadFailed, limited.isSaturated]).toEqual([true, false, false])
    inner.isReady = false
    inner.loadFailed = true
    inner.isSaturated = true
    expect([limited.isReady, limited.loadFailed, limited.isSaturated]).toEqual([false, true, true])
    expect(limitInFlight({ rerank: inner.rerank.bind(inner) }, { maxInFlight: 1 }).stats).toBeUndefined()
  })

  it('refuses a cap that is not a positive integer', () => {
    for (const maxInFlight of [0, -1, 1.5, Number.NaN]) {
      expect(() => limitInFlight(new GatedReranker(), { maxInFlight })).toThrowError(TypeError)
    }
  })

  it('over HTTP: a burst past the cap gets 503 + Retry-After at once, the admitted requests 200', async () => {
    const slow = new OverlapReranker()
    slow.delayMs = 1500
    const handler = createRerankHandler({ reranker: limitInFlight(slow, { maxInFlight: 3 }) })
    const app = await listening(createServer(createNodeListener(handler)))
    try {
      const post = async () => {
        const started = performance.now()
        const response = await fetch(`${app.url}/rerank`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
        })
        const body = (await response.json()) as { error?: { code?: string } }
        return {
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          body,
          ms: performance.now() - started,
        }
      }
      const answers = Promise.all(Array.from({ length: 12 }, post))
      // While the admitted ones run, /ready tells a balancer in front to send elsewhere.
      await new Promise((resolve) => setTimeout(resolve, 500))
      const ready = await fetch(`${app.url}/ready`)
      expect(ready.status).toBe(503)
      expect(await ready.json()).toEqual({ status: 'saturated' })

      const all = await answers
      const ok = all.filter((answer) => answer.status === 200)
      const refused = all.filter((answer) => answer.status !== 200)
      expect(ok).toHaveLength(3)
      expect(ok.every((answer) => answer.ms >= 1400)).toBe(true)
      expect(refused).toHaveLength(9)
      for (const answer of refused) {
        expect(answer.status).toBe(503)
        expect(answer.retryAfter).toBe('1')
        // At once: well before the admitted requests' 1.5 s.
        expect(answer.ms).toBeLessThan(1000)
      }
      expect(slow.calls).toHaveLength(3)
      expect((await fetch(`${app.url}/ready`)).status).toBe(200)
    } finally {
      await app.close()
    }
  })
})
