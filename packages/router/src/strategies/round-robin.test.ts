import { describe, expect, it } from 'vitest'
import { countPicks, deployment, pickContext } from '../test-support/test-deployments'
import { roundRobin } from './round-robin'

const idAtTurn = (ids: string[], turn: number) =>
  roundRobin(
    ids.map((id) => deployment(id)),
    pickContext([], { turn }),
  )?.id

describe('roundRobin', () => {
  it('returns undefined for no candidates', () => {
    expect(roundRobin([], pickContext())).toBeUndefined()
  })

  it('walks the candidates in id order, whatever order they come in, without drawing', () => {
    for (const ids of [
      ['a', 'b', 'c'],
      ['c', 'a', 'b'],
      ['b', 'c', 'a'],
    ]) {
      expect([0, 1, 2, 3, 4].map((turn) => idAtTurn(ids, turn))).toEqual(['a', 'b', 'c', 'a', 'b'])
    }
  })

  it('sorts by code unit, not locale, so every machine rotates alike', () => {
    expect(idAtTurn(['a', 'B'], 0)).toBe('B')
  })

  it('keeps a negative turn in range', () => {
    expect(idAtTurn(['a', 'b', 'c'], -1)).toBe('c')
  })

  it('gives every candidate exactly the same number of turns', () => {
    const candidates = ['d', 'a', 'c', 'b'].map((id) => deployment(id))
    expect(countPicks(roundRobin, candidates)).toEqual({ a: 5_000, b: 5_000, c: 5_000, d: 5_000 })
  })
})
