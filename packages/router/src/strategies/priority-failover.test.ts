import { describe, expect, it } from 'vitest'
import { countPicks, deployment, expectShares, pickContext } from '../test-support/test-deployments'
import { priorityFailover } from './priority-failover'

const primaryLight = deployment('primary-light', { priority: 0, weight: 1 })
const primaryHeavy = deployment('primary-heavy', { priority: 0, weight: 3 })
const secondary = deployment('secondary', { priority: 1, weight: 100 })
const tertiary = deployment('tertiary', { priority: 2 })

describe('priorityFailover', () => {
  it('returns undefined for no candidates', () => {
    expect(priorityFailover([], pickContext())).toBeUndefined()
  })

  it('stays in tier 0 while it has candidates, weighted inside it', () => {
    const candidates = [secondary, primaryLight, tertiary, primaryHeavy]
    expect(priorityFailover(candidates, pickContext([0.2]))?.id).toBe('primary-light')
    expect(priorityFailover(candidates, pickContext([0.3]))?.id).toBe('primary-heavy')
    expectShares(countPicks(priorityFailover, candidates), {
      'primary-light': 0.25,
      'primary-heavy': 0.75,
      secondary: 0,
      tertiary: 0,
    })
  })

  it('keeps tier 0 even when a single member is left', () => {
    const candidates = [secondary, primaryLight, tertiary]
    expect(countPicks(priorityFailover, candidates)).toEqual({
      secondary: 0,
      'primary-light': 20_000,
      tertiary: 0,
    })
  })

  it('moves to the next tier only once tier 0 has no candidates', () => {
    expect(priorityFailover([tertiary, secondary], pickContext())?.id).toBe('secondary')
    expect(priorityFailover([tertiary], pickContext())?.id).toBe('tertiary')
  })

  it('does not need tiers to start at 0', () => {
    const candidates = [deployment('five', { priority: 5 }), deployment('three', { priority: 3 })]
    expect(priorityFailover(candidates, pickContext())?.id).toBe('three')
  })
})
