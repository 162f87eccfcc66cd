import { createServer } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import { KeyRateLimiter } from './key-rate-limit'
import { createNodeListener } from './node-http'
import { listening } from './test-support/listening'
import { OverlapReranker } from './test-support/overlap-reranker'

function rejection(run: () => void) {
  try {
    run()
  } catch (error) {
    return error as { code: string; status: number; message: string; retryAfterMs?: number }
  }
  throw new Error('expected the request to be refused')
}

/** A limiter on a clock the test moves. */
function limiterAt(keys: string[], limits: ConstructorParameters<typeof KeyRateLimiter>[1]) {
  const clock = { ms: 1_000_000 }
  const limiter = new KeyRateLimiter(keys, limits, () => clock.ms)
  const as = (key: string) => ({ authorization: `Bearer ${key}` })
  return { clock, limiter, as }
}

describe('KeyRateLimiter', () => {
  it('lets a burst of the budget through, then refuses with the wait until the next request', () => {
    const { clock, limiter, as } = limiterAt(['alpha'], { requestsPerMinute: 3 })
    for (let i = 0; i < 3; i++) limiter.take(as('alpha'))
    const refused = rejection(() => limiter.take(as('alpha')))
    expect(refused).toMatchObject({ code: 'rate_limited', status: 429, retryAfterMs: 20_000 })
    expect(refused.message).toBe('Rate limit exceeded: this API key may make 3 requests per minute')
    // Refills evenly: half-way to the next token the wait has halved; at it, one request passes.
    clock.ms += 10_000
    expect(rejection(() => limiter.take(as('alpha'))).retryAfterMs).toBe(10_000)
    clock.ms += 10_000
    limiter.take(as('alpha'))
    expect(rejection(() => limiter.take(as('alpha'))).code).toBe('rate_limited')
    // Never more than the budget after a long pause.
    clock.ms += 3_600_000
    for (let i = 0; i < 3; i++) limiter.take(as('alpha'))
    expect(rejection(() => limiter.take(as('alpha'))).code).toBe('rate_limited')
  })

  it('counts each key apart, and budgets keys listed in perKey differently', () => {
    const { limiter, as } = limiterAt(['alpha', 'beta', 'gamma'], {
      requestsPerMinute: 1,
      perKey: { gamma: 5 },
    })
    limiter.take(as('alpha'))
    expect(rejection(() => limiter.take(as('alpha'))).code).toBe('rate_limited')
    limiter.take(as('beta'))
    for (let i = 0; i < 5; i++) limiter.take({ 'x-api-key': 'gamma' })
    expect(rejection(() => limiter.take(as('gamma'))).message).toContain('5 requests per minute')
  })

  it('leaves requests without a configured key alone (auth answers them), spending no budget', () => {
    const { limiter, as } = limiterAt(['alpha'], { requestsPerMinute: 1 })
    for (let i = 0; i < 10; i++) {
      limiter.take({})
      limiter.take(as('alph'))
      limiter.take(as('alpha-'))
    }
    limiter.take(as('alpha'))
    expect(rejection(() => limiter.take(as('alpha'))).code).toBe('rate_limited')
  })

  it('reads perKey budgets from own entries only, and refuses budgets that are not positive numbers', () => {
    // A key spelled like an Object.prototype member gets the default, not the inherited function.
    const { limiter, as } = limiterAt(['constructor', '__proto__', 'toString'], {
      requestsPerMinute: 2,
      perKey: JSON.parse('{"__proto__": 1}'),
    })
    limiter.take(as('__proto__'))
    expect(rejection(() => limiter.take(as('__proto__'))).code).toBe('rate_limited')
    for (const key of ['constructor', 'toString']) {
      limiter.take(as(key))
      limiter.take(as(key))
      expect(rejection(() => limiter.take(as(key))).message).toContain('2 requests per minute')
    }
    for (const requestsPerMinute of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new KeyRateLimiter(['a'], { requestsPerMinute })).toThrowError(TypeError)
    }
    expect(() => new KeyRateLimiter(['a'], { requestsPerMinute: 1, perKey: { a: 0 } })).toThrowError(
      'a keyRateLimits.perKey budget must be a positive number of requests per minute',
    )
  })
})

describe('keyRateLimits on the handler', () => {
  it('answers 429 with Retry-After in each family format, per key, after auth, never on public routes', async () => {
    const handler = createRerankHandler({
      reranker: new OverlapReranker(),
      apiKeys: ['alpha', 'beta'],
      keyRateLimits: { requestsPerMinute: 4 },
    })
    const app = await listening(createServer(createNodeListener(handler)))
    const post = (path: string, key: string) =>
      fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: 'capital of France', documents: ['Paris'] }),
      })
    try {
      // /health is public: with a key or without, it is neither refused nor counted.
      for (let i = 0; i < 10; i++) {
        expect(
          (await fetch(`${app.url}/health`, { headers: { authorization: 'Bearer alpha' } })).status,
        ).toBe(200)
      }
      for (const path of ['/rerank', '/v1/rerank', '/v2/rerank', '/api/v1/rerank']) {
        expect((await post(path, 'alpha')).status, path).toBe(200)
      }
      const expected: Record<string, unknown> = {
        '/rerank': {
          error: {
            code: 'rate_limited',
            message: 'Rate limit exceeded: this API key may make 4 requests per minute',
          },
        },
        '/v1/rerank': { message: 'Rate limit exceeded: this API key may make 4 requests per minute' },
        '/v2/rerank': { message: 'Rate limit exceeded: this API key may make 4 requests per minute' },
        '/api/v1/rerank': { detail: 'Rate limit exceeded: this API key may make 4 requests per minute' },
      }
      for (const [path, body] of Object.entries(expected)) {
        const refused = await post(path, 'alpha')
        expect(refused.status, path).toBe(429)
        // About 15 s to the next request (4 a minute); whole seconds, at least 1.
        const retryAfter = Number(refused.headers.get('retry-after'))
        expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 15, String(retryAfter)).toBe(
          true,
        )
        expect(await refused.json(), path).toEqual(body)
      }
      // GET routes behind auth count too.
      const models = await fetch(`${app.url}/v1/models`, { headers: { 'x-api-key': 'alpha' } })
      expect(models.status).toBe(429)
      // Another key has its own budget, and a wrong key is a 401, not a 429.
      expect((await post('/v1/rerank', 'beta')).status).toBe(200)
      expect((await post('/v1/rerank', 'alph')).status).toBe(401)
    } finally {
      await app.close()
    }
  })
})
