import { describe, expect, it } from 'vitest'
import { countPicks, deployment, expectShares, pickContext } from '../test-support/test-deployments'
import { latencyBasedRouting } from './latency-based-routing'

describe('latencyBasedRouting', () => {
  it('returns undefined for no candidates', () => {
    expect(latencyBasedRouting([], pickContext())).toBeUndefined()
  })

  it('tries an unmeasured deployment before any measured one', () => {
    const candidates = [deployment('fast', { latencyMs: 5 }), deployment('new')]
    expect(latencyBasedRouting(candidates, pickContext())?.id).toBe('new')
  })

  it('picks among several unmeasured deployments at random', () => {
    const candidates = [deployment('fast', { latencyMs: 5 }), deployment('new1'), deployment('new2')]
    expect(latencyBasedRouting(candidates, pickContext([0.4]))?.id).toBe('new1')
    expect(latencyBasedRouting(candidates, pickContext([0.6]))?.id).toBe('new2')
    expectShares(countPicks(latencyBasedRouting, candidates), { fast: 0, new1: 0.5, new2: 0.5 })
  })

  it('treats a NaN latency as not measured', () => {
    const candidates = [deployment('fast', { latencyMs: 5 }), deployment('broken', { latencyMs: Number.NaN })]
    expect(latencyBasedRouting(candidates, pickContext())?.id).toBe('broken')
  })

  it('with buffer 0.1 shares 100 ms and 105 ms about 50/50 and never picks 200 ms', () => {
    const candidates = [
      deployment('slow', { latencyMs: 200 }),
      deployment('fast', { latencyMs: 100 }),
      deployment('close', { latencyMs: 105 }),
    ]
    expect(latencyBasedRouting(candidates, pickContext([0.4]))?.id).toBe('fast')
    expect(latencyBasedRouting(candidates, pickContext([0.6]))?.id).toBe('close')
    expectShares(countPicks(latencyBasedRouting, candidates, { latencyBuffer: 0.1 }), {
      slow: 0,
      fast: 0.5,
      close: 0.5,
    })
  })

  it('includes a deployment exactly at the buffer edge and excludes one just past it', () => {
    const candidates = [
      deployment('fast', { latencyMs: 100 }),
      deployment('edge', { latencyMs: 110 }),
      deployment('past', { latencyMs: 111 }),
    ]
    expectShares(countPicks(latencyBasedRouting, candidates, { latencyBuffer: 0.1 }), {
      fast: 0.5,
      edge: 0.5,
      past: 0,
    })
  })

  it('with buffer 0 (or a negative one) always picks the single fastest, without drawing', () => {
    const candidates = [deployment('fast', { latencyMs: 100 }), deployment('close', { latencyMs: 101 })]
    expect(latencyBasedRouting(candidates, pickContext([], { latencyBuffer: 0 }))?.id).toBe('fast')
    expect(latencyBasedRouting(candidates, pickContext([], { latencyBuffer: -0.5 }))?.id).toBe('fast')
  })
})
