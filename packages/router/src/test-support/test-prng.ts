/**
 * Random sources for strategy tests: a seeded PRNG so distribution tests are reproducible, and a scripted
 * one so single picks are exact and an unexpected draw fails the test.
 */

/** mulberry32: 32-bit state, good enough spread for share tests, same sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(state ^ (state >>> 15), state | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Returns `values` in order, then throws: a strategy drawing more often than the test expects is a bug. */
export function scriptedRandom(...values: number[]): () => number {
  let next = 0
  return () => {
    const value = values[next]
    if (value === undefined)
      throw new Error(`random() called ${next + 1} times; the test scripted ${values.length}`)
    next++
    return value
  }
}
