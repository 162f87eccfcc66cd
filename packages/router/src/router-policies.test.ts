import { RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { request, scripted, testRouter, upstream } from './test-support/scripted-deployments'

// LiteLLM's retry_policy and allowed_fails_policy: a number per failure class, overriding num_retries and
// allowed_fails for failures of that class only.

const coolingOf = async (router: ReturnType<typeof testRouter>['router']) =>
  (await router.stats()).deployments.map((deployment) => deployment.coolingUntil !== undefined)

describe('Router retryPolicy', () => {
  it("a class's count replaces numRetries for failures of that class", async () => {
    const flaky = scripted('flaky', [upstream(500), upstream(500), upstream(500), upstream(500)])
    const { router } = testRouter([{ modelName: 'g', reranker: flaky.reranker }], {
      numRetries: 1,
      allowedFails: 10,
      retryPolicy: { internalServer: 4 },
    })
    await expect(router.rerank(request)).resolves.toMatchObject({ model: 'g' })
    expect(flaky.calls).toHaveLength(5)
  })

  it('0 stops at the first failure of the class, where numRetries would have tried another deployment', async () => {
    const limited = scripted('limited', [upstream(429)])
    const spare = scripted('spare')
    const { router } = testRouter(
      [
        { modelName: 'g', reranker: limited.reranker, priority: 0 },
        { modelName: 'g', reranker: spare.reranker, priority: 1 },
      ],
      { routingStrategy: 'priority-failover', retryPolicy: { rateLimit: 0, timeout: 5 } },
    )
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'rate_limited', status: 429 })
    expect(spare.calls).toHaveLength(0)
  })

  it('classes it does not name keep numRetries', async () => {
    const down = scripted('down', [upstream(503), upstream(503), upstream(503)])
    const { router } = testRouter([{ modelName: 'g', reranker: down.reranker }], {
      numRetries: 1,
      allowedFails: 10,
      retryPolicy: { rateLimit: 5 },
    })
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'overloaded' })
    expect(down.calls).toHaveLength(2)
  })

  it('retries a bad request it names (LiteLLM: the policy takes precedence), never without it', async () => {
    const picky = scripted('picky', [upstream(400), upstream(400)])
    const { router } = testRouter([{ modelName: 'g', reranker: picky.reranker }], {
      retryPolicy: { badRequest: 1 },
    })
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'invalid_request', status: 400 })
    expect(picky.calls).toHaveLength(2)
    await expect(router.rerank(request)).resolves.toMatchObject({ model: 'g' })
    const strict = scripted('strict', [upstream(400)])
    const { router: plain } = testRouter([{ modelName: 'g', reranker: strict.reranker }])
    await expect(plain.rerank(request)).rejects.toMatchObject({ code: 'invalid_request' })
    expect(strict.calls).toHaveLength(1)
  })

  it('never retries an abort, whatever the policy', async () => {
    const controller = new AbortController()
    const leaving = {
      async rerank() {
        controller.abort()
        throw new RerankError('aborted', 'The request was aborted')
      },
    }
    const { router } = testRouter([{ modelName: 'g', reranker: leaving }], {
      retryPolicy: { badRequest: 3, internalServer: 3, timeout: 3 },
    })
    await expect(router.rerank(request, { signal: controller.signal })).rejects.toMatchObject({
      code: 'aborted',
    })
  })
})

describe('Router allowedFailsPolicy', () => {
  it('lets a class fail its count of times in a minute before a cooldown, even a 429', async () => {
    const limited = scripted('limited', [upstream(429), upstream(429), upstream(429)])
    const { router } = testRouter([{ modelName: 'g', reranker: limited.reranker }], {
      numRetries: 0,
      allowedFailsPolicy: { rateLimit: 2 },
    })
    // Without the policy the first 429 cools down at once; with it, two are allowed and the third cools down.
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'rate_limited' })
    expect(await coolingOf(router)).toEqual([false])
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'rate_limited' })
    expect(await coolingOf(router)).toEqual([false])
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'rate_limited' })
    expect(await coolingOf(router)).toEqual([true])
  })

  it('0 cools down at the first failure of the class, where allowedFails would wait', async () => {
    const slow = scripted('slow', [new RerankError('timeout', 'No answer within 100 ms')])
    const { router } = testRouter([{ modelName: 'g', reranker: slow.reranker }], {
      numRetries: 0,
      allowedFails: 5,
      allowedFailsPolicy: { timeout: 0 },
    })
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'timeout' })
    expect(await coolingOf(router)).toEqual([true])
  })

  it('classes it does not name keep allowedFails and the immediate cooldowns', async () => {
    const failing = scripted('failing', [upstream(500), upstream(429)])
    const { router } = testRouter([{ modelName: 'g', reranker: failing.reranker }], {
      numRetries: 0,
      allowedFails: 5,
      allowedFailsPolicy: { timeout: 0 },
    })
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'upstream_error' })
    expect(await coolingOf(router)).toEqual([false])
    await expect(router.rerank(request)).rejects.toMatchObject({ code: 'rate_limited' })
    expect(await coolingOf(router)).toEqual([true])
  })
})
