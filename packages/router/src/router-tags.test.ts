import type { RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import type { RouterDeployment } from './deployment-runtime'
import { request, scripted, testRouter, upstream } from './test-support/scripted-deployments'

// LiteLLM's tag routing (enable_tag_filtering): a request's tags pick the deployments carrying one of them,
// else those tagged "default"; untagged requests go to "default" deployments if any, else to all.

function tagged(tags: Record<string, string[] | undefined>) {
  const backends = Object.fromEntries(Object.keys(tags).map((id) => [id, scripted(id)]))
  const deployments: RouterDeployment[] = Object.entries(tags).map(([id, list]) => ({
    id,
    modelName: 'g',
    reranker: backends[id]!.reranker,
    ...(list === undefined ? {} : { tags: list }),
  }))
  const served = () => Object.fromEntries(Object.entries(backends).map(([id, b]) => [id, b.calls.length]))
  return { deployments, served }
}

async function send(router: ReturnType<typeof testRouter>['router'], tags: string[] | undefined, times = 6) {
  for (let n = 0; n < times; n++) await router.rerank(request, tags === undefined ? {} : { tags })
}

describe('Router tag filtering', () => {
  it('sends tagged requests to deployments carrying one of the tags', async () => {
    const { deployments, served } = tagged({ free: ['free'], paid: ['paid', 'eu'], other: ['default'] })
    const { router } = testRouter(deployments, { enableTagFiltering: true })
    await send(router, ['paid'])
    await send(router, ['eu', 'us'])
    expect(served()).toEqual({ free: 0, paid: 12, other: 0 })
  })

  it('sends untagged requests, and tags no deployment carries, to the "default" deployments', async () => {
    const { deployments, served } = tagged({ free: ['free'], fallback: ['default'], plain: undefined })
    const { router } = testRouter(deployments, { enableTagFiltering: true })
    await send(router, undefined)
    await send(router, ['gold'])
    await send(router, [])
    expect(served()).toEqual({ free: 0, fallback: 18, plain: 0 })
  })

  it('sends untagged requests to every deployment when none is tagged "default"', async () => {
    const { deployments, served } = tagged({ free: ['free'], plain: undefined })
    const { router } = testRouter(deployments, { enableTagFiltering: true })
    await send(router, undefined)
    expect(served()).toEqual({ free: 3, plain: 3 })
  })

  it('refuses tags that fit no deployment, when none is tagged "default" (400, not a fallback)', async () => {
    const { deployments, served } = tagged({ free: ['free'], plain: undefined })
    const { router } = testRouter(
      [...deployments, { id: 'spare', modelName: 'spare', reranker: scripted('spare').reranker }],
      { enableTagFiltering: true, fallbacks: { g: ['spare'] } },
    )
    const error = (await router
      .rerank({ ...request, model: 'g' }, { tags: ['gold'] })
      .catch((e) => e)) as RerankError
    expect(error).toMatchObject({ code: 'invalid_request', status: 400, param: 'tags' })
    expect(error.message).toBe('No deployment of "g" accepts the tags "gold"')
    expect(served()).toEqual({ free: 0, plain: 0 })
  })

  it('ignores tags when filtering is off', async () => {
    const { deployments, served } = tagged({ free: ['free'], paid: ['paid'] })
    const { router } = testRouter(deployments)
    await send(router, ['paid'])
    expect(served()).toEqual({ free: 3, paid: 3 })
  })

  it('says which deployments the tags ruled out when the ones they allow are unavailable', async () => {
    const limited = scripted('limited', [upstream(429, 30_000)])
    const { router } = testRouter(
      [
        { id: 'paid', modelName: 'g', reranker: limited.reranker, tags: ['paid'] },
        { id: 'free', modelName: 'g', reranker: scripted('free').reranker, tags: ['free'] },
      ],
      { enableTagFiltering: true },
    )
    await expect(router.rerank(request, { tags: ['paid'] })).rejects.toMatchObject({ code: 'rate_limited' })
    const error = (await router.rerank(request, { tags: ['paid'] }).catch((e) => e)) as RerankError
    expect(error).toMatchObject({ code: 'overloaded', status: 503, retryAfterMs: 30_000 })
    expect(error.message).toBe(
      'No deployment of "g" is available: paid is cooling down until 2026-11-23T12:00:30.000Z; ' +
        "free does not carry the request's tags",
    )
  })
})
