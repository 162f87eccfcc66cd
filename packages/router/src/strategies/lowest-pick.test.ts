import { describe, expect, it } from 'vitest'
import { scriptedRandom } from '../test-support/test-prng'
import { pickLowest } from './lowest-pick'

const items = [
  { id: 'a', tokens: 5, requests: 1 },
  { id: 'b', tokens: 3, requests: 4 },
  { id: 'c', tokens: 3, requests: 2 },
  { id: 'd', tokens: 3, requests: 2 },
]

describe('pickLowest', () => {
  it('returns the single lowest without drawing', () => {
    expect(pickLowest(items, (item) => [-item.requests], scriptedRandom())?.id).toBe('b')
    expect(pickLowest(items, (item) => [item.requests], scriptedRandom())?.id).toBe('a')
  })

  it('compares keys element by element, then breaks ties at random', () => {
    const key = (item: (typeof items)[number]) => [item.tokens, item.requests]
    expect(pickLowest(items, key, scriptedRandom(0))?.id).toBe('c')
    expect(pickLowest(items, key, scriptedRandom(0.5))?.id).toBe('d')
  })

  it('returns undefined for no items', () => {
    expect(pickLowest([], () => [0], scriptedRandom())).toBeUndefined()
  })
})
