import { describe, expect, it } from 'vitest'
import { Router } from './router'
import { request, scripted, testRouter } from './test-support/scripted-deployments'

// LiteLLM's model_group_alias: `{"gpt-4": "gpt-3.5-turbo"}` or `{"gpt-4": {"model": ..., "hidden": true}}`.

describe('Router groupAliases', () => {
  const deployments = () => [
    { id: 'small#0', modelName: 'small', reranker: scripted('small').reranker },
    { id: 'large#0', modelName: 'large', reranker: scripted('large').reranker },
  ]

  it('routes a request naming an alias to its group, and answers under the name asked for', async () => {
    const { router } = testRouter(deployments(), {
      groupAliases: { fast: { group: 'small' }, legacy: { group: 'large', hidden: true } },
    })
    expect(await router.rerank({ ...request, model: 'fast' })).toMatchObject({ model: 'fast' })
    expect(await router.rerank({ ...request, model: 'legacy' })).toMatchObject({ model: 'legacy' })
    const served = (await router.stats()).deployments.map((deployment) => [
      deployment.id,
      deployment.requests,
    ])
    expect(served).toEqual([
      ['small#0', 1],
      ['large#0', 1],
    ])
  })

  it('lists the aliases that are not hidden with the groups; a hidden one is still accepted', () => {
    const { router } = testRouter(deployments(), {
      groupAliases: { fast: { group: 'small' }, legacy: { group: 'large', hidden: true } },
    })
    expect(router.modelNames).toEqual(['small', 'large', 'fast'])
    expect(router.acceptsModel('legacy')).toBe(true)
    expect(router.acceptsModel('fast')).toBe(true)
    expect(router.acceptsModel('small')).toBe(true)
    expect(router.acceptsModel('huge')).toBe(false)
  })

  it('an unknown name is model_not_found, listing only what /v1/models lists', async () => {
    const { router } = testRouter(deployments(), {
      groupAliases: { legacy: { group: 'large', hidden: true } },
    })
    await expect(router.rerank({ ...request, model: 'huge' })).rejects.toMatchObject({
      code: 'model_not_found',
      message: 'Model "huge" is not served here; available: small, large',
    })
  })

  it('refuses at construction an alias that shadows a group or names no group', () => {
    expect(
      () => new Router({ deployments: deployments(), groupAliases: { small: { group: 'large' } } }),
    ).toThrow('Group alias "small" is also the name of a group')
    expect(
      () => new Router({ deployments: deployments(), groupAliases: { fast: { group: 'tiny' } } }),
    ).toThrow('Group alias "fast" names an unknown group "tiny"')
  })
})
