import { describe, expect, it } from 'vitest'
import { BucketHistogram } from './bucket-histogram'

describe('BucketHistogram', () => {
  it('counts each value in the first bucket whose bound is at least the value, cumulatively, as Prometheus does', () => {
    const histogram = new BucketHistogram([1, 2, 4])
    for (const value of [0.5, 1, 1.5, 2, 3, 4, 100, Number.NaN]) histogram.observe(value)
    // le=1: 0.5 and 1 (a bound is inclusive); le=2: + 1.5, 2; le=4: + 3, 4; +Inf (count): + 100. NaN is dropped.
    expect(histogram.snapshot()).toEqual({ le: [1, 2, 4], counts: [2, 4, 6], sum: 112, count: 7 })
  })

  it('starts at zero and refuses bounds that are not ascending', () => {
    expect(new BucketHistogram([0.1, 1]).snapshot()).toEqual({
      le: [0.1, 1],
      counts: [0, 0],
      sum: 0,
      count: 0,
    })
    expect(() => new BucketHistogram([1, 1])).toThrow(RangeError)
    expect(() => new BucketHistogram([2, 1])).toThrow(RangeError)
  })
})
