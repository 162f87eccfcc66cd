import { describe, expect, it } from 'vitest'
import { countPicks, deployment, expectShares, pickContext } from '../test-support/test-deployments'
import { usageBasedRouting } from './usage-based-routing'

describe('usageBasedRouting', () => {
  it('returns undefined for no candidates', () => {
    expect(usageBasedRouting([], pickContext())).toBeUndefined()
  })

  it('compares the fraction of the limit used, not raw counts', () => {
    const candidates = [
      deployment('small', { rpm: 100, rpmUsed: 50 }),
      deployment('big', { rpm: 1_000, rpmUsed: 100 }),
    ]
    expect(usageBasedRouting(candidates, pickContext())?.id).toBe('big')
    expect(countPicks(usageBasedRouting, candidates)).toEqual({ small: 0, big: 20_000 })
  })

  it('takes the larger of the rpm and tpm fractions when both limits are set', () => {
    const candidates = [
      deployment('token-heavy', { rpm: 100, rpmUsed: 10, tpm: 1_000, tpmUsed: 900 }),
      deployment('request-heavy', { rpm: 100, rpmUsed: 50, tpm: 1_000, tpmUsed: 100 }),
    ]
    expect(usageBasedRouting(candidates, pickContext())?.id).toBe('request-heavy')
  })

  it('compares a tpm-only deployment with an rpm-only one by their own fractions', () => {
    const candidates = [
      deployment('rpm-only', { rpm: 10, rpmUsed: 3, tpmUsed: 5_000 }),
      deployment('tpm-only', { tpm: 10_000, tpmUsed: 4_000, rpmUsed: 1 }),
    ]
    expect(usageBasedRouting(candidates, pickContext())?.id).toBe('rpm-only')
  })

  it('counts a limit of 0 as full', () => {
    const candidates = [deployment('closed', { rpm: 0 }), deployment('nearly-full', { rpm: 10, rpmUsed: 9 })]
    expect(usageBasedRouting(candidates, pickContext())?.id).toBe('nearly-full')
  })

  it('falls back to raw tokens when any candidate has no limit', () => {
    const candidates = [
      deployment('limited', { rpm: 1_000, rpmUsed: 900, tpmUsed: 10 }),
      deployment('unlimited', { tpmUsed: 20, rpmUsed: 1 }),
    ]
    expect(usageBasedRouting(candidates, pickContext())?.id).toBe('limited')
  })

  it('breaks a tie on raw tokens by fewer requests', () => {
    const candidates = [
      deployment('a', { tpmUsed: 500, rpmUsed: 3 }),
      deployment('b', { tpmUsed: 500, rpmUsed: 1 }),
      deployment('c', { tpmUsed: 600, rpmUsed: 0 }),
    ]
    expect(usageBasedRouting(candidates, pickContext())?.id).toBe('b')
  })

  it('breaks exact ties at random', () => {
    const candidates = [
      deployment('a', { rpm: 100, rpmUsed: 10 }),
      deployment('b', { rpm: 200, rpmUsed: 20 }),
      deployment('c', { rpm: 100, rpmUsed: 11 }),
    ]
    expect(usageBasedRouting(candidates, pickContext([0.4]))?.id).toBe('a')
    expect(usageBasedRouting(candidates, pickContext([0.6]))?.id).toBe('b')
  })

  it('spreads evenly when usage is equal', () => {
    const candidates = [deployment('a'), deployment('b'), deployment('c')]
    expectShares(countPicks(usageBasedRouting, candidates), { a: 1 / 3, b: 1 / 3, c: 1 / 3 })
    const limited = candidates.map((candidate) => ({ ...candidate, tpm: 1_000, tpmUsed: 250 }))
    expectShares(countPicks(usageBasedRouting, limited), { a: 1 / 3, b: 1 / 3, c: 1 / 3 })
  })
})
