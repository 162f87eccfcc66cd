import { describe, expect, it } from 'vitest'
import { scriptedRandom } from '../test-support/test-prng'
import { pickUniform, pickWeighted } from './weighted-pick'

const weightOf = (item: { weight: number }) => item.weight

describe('pickUniform', () => {
  it('returns undefined for no items and the only item for one, without drawing', () => {
    expect(pickUniform([], scriptedRandom())).toBeUndefined()
    expect(pickUniform(['only'], scriptedRandom())).toBe('only')
  })

  it('maps the draw onto equal slices', () => {
    const items = ['a', 'b', 'c']
    expect(pickUniform(items, scriptedRandom(0))).toBe('a')
    expect(pickUniform(items, scriptedRandom(0.34))).toBe('b')
    expect(pickUniform(items, scriptedRandom(0.999))).toBe('c')
  })

  it('keeps a draw of exactly 1 (a broken injected random) on the last item', () => {
    expect(pickUniform(['a', 'b'], scriptedRandom(1))).toBe('b')
  })
})

describe('pickWeighted', () => {
  const a = { id: 'a', weight: 1 }
  const b = { id: 'b', weight: 3 }

  it('splits [0, 1) at the cumulative weights', () => {
    expect(pickWeighted([a, b], weightOf, scriptedRandom(0))?.id).toBe('a')
    expect(pickWeighted([a, b], weightOf, scriptedRandom(0.2499))?.id).toBe('a')
    expect(pickWeighted([a, b], weightOf, scriptedRandom(0.25))?.id).toBe('b')
    expect(pickWeighted([a, b], weightOf, scriptedRandom(0.9999))?.id).toBe('b')
  })

  it('never picks a weight that is zero, negative or not a finite number', () => {
    const items = [
      { id: 'zero', weight: 0 },
      { id: 'negative', weight: -5 },
      { id: 'nan', weight: Number.NaN },
      { id: 'c', weight: 1 },
      { id: 'd', weight: 1 },
    ]
    expect(pickWeighted(items, weightOf, scriptedRandom(0))?.id).toBe('c')
    expect(pickWeighted(items, weightOf, scriptedRandom(0.5))?.id).toBe('d')
  })

  it('falls back to uniform when no weight is positive', () => {
    const items = [
      { id: 'x', weight: 0 },
      { id: 'y', weight: -1 },
      { id: 'z', weight: 0 },
    ]
    expect(pickWeighted(items, weightOf, scriptedRandom(0.4))?.id).toBe('y')
    expect(pickWeighted(items, weightOf, scriptedRandom(0.9))?.id).toBe('z')
  })

  it('does not draw when only one item can be picked', () => {
    expect(pickWeighted([{ id: 'off', weight: 0 }, b], weightOf, scriptedRandom())?.id).toBe('b')
    expect(pickWeighted([], weightOf, scriptedRandom())).toBeUndefined()
  })

  it('gives a draw rounded past the last cumulative sum to the last positive item', () => {
    const items = [a, b, { id: 'off', weight: 0 }]
    expect(pickWeighted(items, weightOf, scriptedRandom(1))?.id).toBe('b')
  })
})
