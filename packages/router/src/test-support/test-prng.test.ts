import { describe, expect, it } from 'vitest'
import { mulberry32, scriptedRandom } from './test-prng'

describe('mulberry32', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const first = mulberry32(7)
    const again = mulberry32(7)
    const other = mulberry32(8)
    const sequence = [first(), first(), first()]
    expect([again(), again(), again()]).toEqual(sequence)
    expect([other(), other(), other()]).not.toEqual(sequence)
  })

  it('stays in [0, 1) and spreads evenly over ten buckets', () => {
    const random = mulberry32(1)
    const buckets = new Array<number>(10).fill(0)
    let outOfRange = 0
    for (let draw = 0; draw < 20_000; draw++) {
      const value = random()
      if (value < 0 || value >= 1) outOfRange++
      const bucket = Math.floor(value * 10)
      buckets[bucket] = (buckets[bucket] ?? 0) + 1
    }
    expect(outOfRange).toBe(0)
    for (const count of buckets) {
      expect(count).toBeGreaterThan(1_800)
      expect(count).toBeLessThan(2_200)
    }
  })
})

describe('scriptedRandom', () => {
  it('returns the script in order, then throws', () => {
    const random = scriptedRandom(0.5, 0.25)
    expect(random()).toBe(0.5)
    expect(random()).toBe(0.25)
    expect(() => random()).toThrow('random() called 3 times; the test scripted 2')
  })
})
