import { describe, expect, it } from 'vitest'
import {
  costBasedRouting,
  latencyBasedRouting,
  leastBusy,
  priorityFailover,
  roundRobin,
  simpleShuffle,
  strategies,
  strategyByName,
  usageBasedRouting,
  weightedRandom,
} from './index'

const validNames =
  'simple-shuffle, weighted-random, round-robin, least-busy, latency-based-routing, priority-failover, usage-based-routing, cost-based-routing'

describe('strategies', () => {
  it('maps every strategy name to its function', () => {
    expect(strategies).toEqual({
      'simple-shuffle': simpleShuffle,
      'weighted-random': weightedRandom,
      'round-robin': roundRobin,
      'least-busy': leastBusy,
      'latency-based-routing': latencyBasedRouting,
      'priority-failover': priorityFailover,
      'usage-based-routing': usageBasedRouting,
      'cost-based-routing': costBasedRouting,
    })
  })

  it('cannot be modified at run time', () => {
    expect(Object.isFrozen(strategies)).toBe(true)
  })
})

describe('strategyByName', () => {
  it('returns the strategy for a valid name', () => {
    expect(strategyByName('round-robin')).toBe(roundRobin)
    expect(strategyByName('usage-based-routing')).toBe(usageBasedRouting)
  })

  it('throws for an unknown name, listing the valid ones', () => {
    expect(() => strategyByName('fastest')).toThrow(
      new Error(`Unknown routing strategy "fastest"; valid strategies: ${validNames}`),
    )
  })

  it('does not resolve names inherited from Object.prototype', () => {
    expect(() => strategyByName('toString')).toThrow(`Unknown routing strategy "toString"`)
  })
})
