import { describe, expect, it } from 'vitest'
import { request, scripted, testRouter, upstream } from './test-support/scripted-deployments'

describe('Router cost-based-routing', () => {
  it('sends every request to the cheapest deployment, the next cheapest while it cools down', async () => {
    const cheap = scripted('cheap')
    const middle = scripted('middle')
    const unpriced = scripted('unpriced')
    const { router } = testRouter(
      [
        { modelName: 'g', reranker: unpriced.reranker },
        { modelName: 'g', reranker: middle.reranker, inputCostPerQuery: 0.002 },
        { modelName: 'g', reranker: cheap.reranker, inputCostPerQuery: 0.001 },
      ],
      { routingStrategy: 'cost-based-routing' },
    )
    for (let n = 0; n < 5; n++) await router.rerank(request)
    expect([cheap.calls.length, middle.calls.length, unpriced.calls.length]).toEqual([5, 0, 0])
    const failing = scripted('failing', [upstream(429)])
    const { router: second } = testRouter(
      [
        { modelName: 'g', reranker: failing.reranker, inputCostPerQuery: 0.001 },
        { modelName: 'g', reranker: middle.reranker, inputCostPerQuery: 0.002 },
        { modelName: 'g', reranker: unpriced.reranker },
      ],
      { routingStrategy: 'cost-based-routing' },
    )
    for (let n = 0; n < 3; n++) await second.rerank(request)
    expect([failing.calls.length, middle.calls.length, unpriced.calls.length]).toEqual([1, 3, 0])
  })
})
