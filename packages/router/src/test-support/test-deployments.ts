import { expect } from 'vitest'
import type { DeploymentSnapshot, PickContext, Strategy } from '../deployment-snapshot'
import { mulberry32, scriptedRandom } from './test-prng'

/** A snapshot with the router's defaults (weight 1, priority 0, idle, unmeasured) and the given overrides. */
export function deployment(
  id: string,
  overrides: Partial<Omit<DeploymentSnapshot, 'id'>> = {},
): DeploymentSnapshot {
  return { id, weight: 1, priority: 0, inFlight: 0, rpmUsed: 0, tpmUsed: 0, ...overrides }
}

/** A context whose random() returns `randoms` in order (none by default: any draw throws). */
export function pickContext(
  randoms: number[] = [],
  overrides: Partial<Omit<PickContext, 'random'>> = {},
): PickContext {
  return { random: scriptedRandom(...randoms), turn: 0, latencyBuffer: 0.1, ...overrides }
}

export const SHARE_PICKS = 20_000

/** How many of `picks` picks (turn 0, 1, 2...) land on each candidate, zeros included. */
export function countPicks(
  strategy: Strategy,
  candidates: readonly DeploymentSnapshot[],
  { seed = 42, picks = SHARE_PICKS, latencyBuffer = 0.1 } = {},
): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(candidates.map((candidate) => [candidate.id, 0]))
  const random = mulberry32(seed)
  for (let turn = 0; turn < picks; turn++) {
    const picked = strategy(candidates, { random, turn, latencyBuffer })
    if (picked === undefined) throw new Error(`no pick on turn ${turn}`)
    counts[picked.id] = (counts[picked.id] ?? 0) + 1
  }
  return counts
}

/**
 * Each share within ±2 percentage points of `expected` (ids must match exactly); a share expected to be 0
 * must be exactly 0, since a strategy that should never pick a deployment must not pick it even once.
 */
export function expectShares(counts: Record<string, number>, expected: Record<string, number>): void {
  expect(Object.keys(counts).sort()).toEqual(Object.keys(expected).sort())
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0)
  for (const [id, share] of Object.entries(expected)) {
    const count = counts[id] ?? 0
    if (share === 0) {
      expect(count, id).toBe(0)
      continue
    }
    expect(count / total, id).toBeGreaterThanOrEqual(share - 0.02)
    expect(count / total, id).toBeLessThanOrEqual(share + 0.02)
  }
}
