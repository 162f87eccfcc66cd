import { describe, expect, it } from 'vitest'
import { countPicks, deployment, expectShares, pickContext } from '../test-support/test-deployments'
import { simpleShuffle } from './simple-shuffle'

describe('simpleShuffle', () => {
  it('returns undefined for no candidates', () => {
    expect(simpleShuffle([], pickContext())).toBeUndefined()
  })

  it('weighs by weight as soon as one differs from 1, ignoring rpm and tpm', () => {
    const candidates = [
      deployment('a', { weight: 1, rpm: 900, tpm: 900 }),
      deployment('b', { weight: 3, rpm: 100, tpm: 100 }),
    ]
    expect(simpleShuffle(candidates, pickContext([0.24]))?.id).toBe('a')
    expect(simpleShuffle(candidates, pickContext([0.26]))?.id).toBe('b')
    expectShares(countPicks(simpleShuffle, candidates), { a: 0.25, b: 0.75 })
  })

  it('weighs by rpm when every weight is the default, ignoring tpm', () => {
    const candidates = [
      deployment('a', { rpm: 100, tpm: 30_000 }),
      deployment('b', { rpm: 300, tpm: 10_000 }),
    ]
    expect(simpleShuffle(candidates, pickContext([0.24]))?.id).toBe('a')
    expect(simpleShuffle(candidates, pickContext([0.26]))?.id).toBe('b')
    expectShares(countPicks(simpleShuffle, candidates), { a: 0.25, b: 0.75 })
  })

  it('counts a missing rpm as the mean of the rpms that are set', () => {
    // c counts as 200: shares 100 / 300 / 200 out of 600.
    const candidates = [deployment('a', { rpm: 100 }), deployment('b', { rpm: 300 }), deployment('c')]
    expect(simpleShuffle(candidates, pickContext([0.5]))?.id).toBe('b')
    expect(simpleShuffle(candidates, pickContext([0.7]))?.id).toBe('c')
    expectShares(countPicks(simpleShuffle, candidates), { a: 1 / 6, b: 1 / 2, c: 1 / 3 })
  })

  it('weighs by tpm when neither weight nor rpm is set, a missing tpm counting as the mean', () => {
    const candidates = [deployment('a', { tpm: 1_000 }), deployment('b', { tpm: 3_000 }), deployment('c')]
    expectShares(countPicks(simpleShuffle, candidates), { a: 1 / 6, b: 1 / 2, c: 1 / 3 })
  })

  it('is uniform when nothing distinguishes the candidates', () => {
    const candidates = [deployment('a'), deployment('b'), deployment('c')]
    expect(simpleShuffle(candidates, pickContext([0.5]))?.id).toBe('b')
    expectShares(countPicks(simpleShuffle, candidates), { a: 1 / 3, b: 1 / 3, c: 1 / 3 })
  })

  it('never picks a zero weight when weights are in use', () => {
    const candidates = [deployment('a', { weight: 0 }), deployment('b'), deployment('c')]
    expectShares(countPicks(simpleShuffle, candidates), { a: 0, b: 0.5, c: 0.5 })
  })
})
