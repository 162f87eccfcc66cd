import { describe, expect, it } from 'vitest'
import { countPicks, deployment, expectShares, pickContext } from '../test-support/test-deployments'
import { leastBusy } from './least-busy'

describe('leastBusy', () => {
  it('returns undefined for no candidates', () => {
    expect(leastBusy([], pickContext())).toBeUndefined()
  })

  it('picks the fewest calls in flight without drawing', () => {
    const candidates = [deployment('a', { inFlight: 3 }), deployment('b', { inFlight: 1 }), deployment('c')]
    expect(leastBusy(candidates, pickContext())?.id).toBe('c')
  })

  it('breaks ties at random', () => {
    const candidates = [
      deployment('a', { inFlight: 2 }),
      deployment('b', { inFlight: 1 }),
      deployment('c', { inFlight: 1 }),
    ]
    expect(leastBusy(candidates, pickContext([0.4]))?.id).toBe('b')
    expect(leastBusy(candidates, pickContext([0.6]))?.id).toBe('c')
  })

  it('spreads evenly over the tied and never picks a busier one', () => {
    const candidates = [
      deployment('busy', { inFlight: 1 }),
      deployment('a'),
      deployment('b'),
      deployment('c'),
    ]
    expectShares(countPicks(leastBusy, candidates), { busy: 0, a: 1 / 3, b: 1 / 3, c: 1 / 3 })
  })
})
