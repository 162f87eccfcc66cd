import { describe, expect, it } from 'vitest'
import { countPicks, deployment, expectShares, pickContext } from '../test-support/test-deployments'
import { weightedRandom } from './weighted-random'

describe('weightedRandom', () => {
  it('returns undefined for no candidates', () => {
    expect(weightedRandom([], pickContext())).toBeUndefined()
  })

  it('splits the draw by weight', () => {
    const candidates = [deployment('a', { weight: 1 }), deployment('b', { weight: 3 })]
    expect(weightedRandom(candidates, pickContext([0.2]))?.id).toBe('a')
    expect(weightedRandom(candidates, pickContext([0.3]))?.id).toBe('b')
  })

  it('lands 1:3 weights at 25% / 75%', () => {
    const candidates = [deployment('a', { weight: 1 }), deployment('b', { weight: 3 })]
    expectShares(countPicks(weightedRandom, candidates), { a: 0.25, b: 0.75 })
  })

  it('lands 1:2:7 weights at 10% / 20% / 70%', () => {
    const candidates = [
      deployment('a', { weight: 1 }),
      deployment('b', { weight: 2 }),
      deployment('c', { weight: 7 }),
    ]
    expectShares(countPicks(weightedRandom, candidates, { seed: 3 }), { a: 0.1, b: 0.2, c: 0.7 })
  })

  it('never picks a weight <= 0 while another is positive', () => {
    const candidates = [
      deployment('off', { weight: 0 }),
      deployment('a', { weight: 1 }),
      deployment('negative', { weight: -2 }),
      deployment('b', { weight: 1 }),
    ]
    expectShares(countPicks(weightedRandom, candidates), { off: 0, a: 0.5, b: 0.5, negative: 0 })
  })

  it('spreads uniformly when every weight is <= 0', () => {
    const candidates = [
      deployment('a', { weight: 0 }),
      deployment('b', { weight: 0 }),
      deployment('c', { weight: -1 }),
    ]
    expectShares(countPicks(weightedRandom, candidates), { a: 1 / 3, b: 1 / 3, c: 1 / 3 })
  })
})
