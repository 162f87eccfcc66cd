import { describe, expect, it } from 'vitest'
import { countPicks, deployment, expectShares, pickContext } from '../test-support/test-deployments'
import { costBasedRouting } from './cost-based-routing'

describe('costBasedRouting', () => {
  it('picks the cheapest deployment, whatever the order', () => {
    const cheap = deployment('cheap', { inputCostPerQuery: 0.001 })
    const dear = deployment('dear', { inputCostPerQuery: 0.002 })
    expect(costBasedRouting([dear, cheap], pickContext())?.id).toBe('cheap')
    expect(costBasedRouting([cheap, dear], pickContext())?.id).toBe('cheap')
  })

  it('shares the load at random among equally cheap deployments, never the dearer one', () => {
    const counts = countPicks(costBasedRouting, [
      deployment('a', { inputCostPerQuery: 0.001 }),
      deployment('b', { inputCostPerQuery: 0.001 }),
      deployment('c', { inputCostPerQuery: 0.01 }),
    ])
    expectShares(counts, { a: 0.5, b: 0.5, c: 0 })
  })

  it('takes an unknown (or broken) cost as dearer than any known one, and still picks among unknowns', () => {
    const unknown = deployment('unknown')
    const broken = deployment('broken', { inputCostPerQuery: Number.NaN })
    const priced = deployment('priced', { inputCostPerQuery: 1_000 })
    expect(costBasedRouting([unknown, broken, priced], pickContext())?.id).toBe('priced')
    expectShares(countPicks(costBasedRouting, [unknown, broken]), { unknown: 0.5, broken: 0.5 })
    expect(costBasedRouting([], pickContext())).toBeUndefined()
  })
})
