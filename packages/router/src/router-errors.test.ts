import { RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { attemptsOf, RouterAttemptsError, redactVendorText } from './router-failure'
import { request, scripted, testRouter, upstream } from './test-support/scripted-deployments'

// What a caller is told when no deployment answers: LiteLLM's statuses (429 when every deployment is at its own
// limits, 503 when they are failing or cooling down), with Retry-After, and every attempt by deployment id.

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => error as RerankError,
  )

describe('Router refusals: nothing to pick', () => {
  it('every deployment at its rpm, tpm or parallel limits: 429 with Retry-After at the next minute', async () => {
    const { router, advance } = testRouter([
      { id: 'a', modelName: 'g', reranker: scripted('a').reranker, rpm: 1 },
      { id: 'b', modelName: 'g', reranker: scripted('b').reranker, tpm: 10 },
    ])
    advance(15_000)
    await router.rerank(request)
    await router.rerank(request)
    const error = await failureOf(router.rerank(request))
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterMs: 45_000 })
    expect(error.message).toBe(
      'No deployment of "g" is available: a is at its rpm limit (1/min); b is at its tpm limit (10/min)',
    )
  })

  it('every deployment failing and cooling down: 503 with Retry-After at the first to come back', async () => {
    const { router, advance } = testRouter(
      [
        { id: 'a', modelName: 'g', reranker: scripted('a', [upstream(500)]).reranker },
        { id: 'b', modelName: 'g', reranker: scripted('b', [upstream(502)]).reranker },
      ],
      { allowedFails: 0, numRetries: 1, cooldownTimeMs: 5_000 },
    )
    await failureOf(router.rerank(request))
    advance(1_000)
    const error = await failureOf(router.rerank(request))
    expect(error).toMatchObject({ code: 'overloaded', status: 503, retryAfterMs: 4_000 })
    expect(error.message).toMatch(
      /^No deployment of "g" is available: a is cooling down until .*; b is cooling/,
    )
    expect(attemptsOf(error)).toBeUndefined()
  })

  it('one cooling down, one at its limit: 503, the group is not merely rate limited', async () => {
    const { router } = testRouter([
      { id: 'a', modelName: 'g', reranker: scripted('a', [upstream(429, 10_000)]).reranker },
      { id: 'b', modelName: 'g', reranker: scripted('b').reranker, rpm: 1 },
    ])
    await router.rerank(request)
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'overloaded', retryAfterMs: 10_000 })
  })
})

describe('Router failures: every attempt failed', () => {
  it('lists each deployment tried and why, keeps the last status, and carries the attempts as data', async () => {
    const a = scripted('a', [upstream(500)])
    const b = scripted('b', [new RerankError('timeout', 'No answer within 300 ms')])
    const { router } = testRouter(
      [
        { id: 'a#0', modelName: 'g', reranker: a.reranker },
        { id: 'b#1', modelName: 'g', reranker: b.reranker },
      ],
      { numRetries: 1, allowedFails: 10 },
    )
    const error = await failureOf(router.rerank(request))
    expect(error).toBeInstanceOf(RouterAttemptsError)
    expect(error).toMatchObject({ code: 'timeout', status: 504 })
    expect(error.message).toBe('All deployments of "g" failed: a#0: upstream_error (HTTP 500), b#1: timeout')
    expect(error.publicMessage).toBe(error.message)
    expect(attemptsOf(error)).toEqual([
      { deployment: 'a#0', group: 'g', code: 'upstream_error', status: 500, message: 'HTTP 500' },
      { deployment: 'b#1', group: 'g', code: 'timeout', message: 'No answer within 300 ms' },
    ])
  })

  it('says how many attempts when some deployments were not tried, and why the last pick found none', async () => {
    const { router } = testRouter(
      [
        { id: 'a', modelName: 'g', reranker: scripted('a', [upstream(500)]).reranker, priority: 0 },
        { id: 'b', modelName: 'g', reranker: scripted('b').reranker, priority: 1, rpm: 0 },
      ],
      { routingStrategy: 'priority-failover', allowedFails: 0 },
    )
    const error = await failureOf(router.rerank(request))
    expect(error).toMatchObject({ code: 'upstream_error', status: 502, upstreamStatus: 500 })
    expect(error.message).toMatch(
      /^"g" failed 1 attempt: a: upstream_error \(HTTP 500\); none left to try: a is cooling down until .*; b is at its rpm limit \(0\/min\)$/,
    )
    // The last failure said nothing of when to come back: the first deployment back tells.
    expect(error.retryAfterMs).toBe(5_000)
  })

  it("keeps the vendor's text in the attempts, without its URLs or keys; the message has none of it", async () => {
    const secret = 'sk-live-ECHOED-4f2a9c'
    const vendorText = `backend exploded: invalid api key ${secret} at https://user:pw@10.0.0.7:8080/rerank?key=${secret}`
    const leaky = scripted('leaky', [upstream(500, undefined, vendorText)])
    const { router } = testRouter([{ id: 'leaky', modelName: 'g', reranker: leaky.reranker }], {
      numRetries: 0,
    })
    const error = await failureOf(router.rerank(request))
    expect(attemptsOf(error)?.[0]?.message).toBe('backend exploded: invalid api key *** at <url>')
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain(secret)
    expect(JSON.stringify(error)).not.toContain('10.0.0.7')
  })
})

describe('redactVendorText', () => {
  it('takes out URLs, addresses and key-like words, and bounds the length', () => {
    expect(redactVendorText('refused by 10.1.2.3:9000 and http://backend.internal/x?token=abc')).toBe(
      'refused by <address> and <url>',
    )
    expect(redactVendorText('Authorization: Bearer abcdef')).toBe('Authorization: ***')
    expect(redactVendorText('token=abc123 password: hunter2')).toBe('token=*** password: ***')
    expect(redactVendorText(`id ${'x'.repeat(40)} failed`)).toBe('id *** failed')
    expect(redactVendorText('Too many documents (max 100)')).toBe('Too many documents (max 100)')
    expect(redactVendorText('word '.repeat(100))).toHaveLength(200)
  })
})
