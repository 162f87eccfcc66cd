/**
 * A histogram as plain numbers, in Prometheus's shape: for each upper bound `le` (ascending), how many
 * observations were at most that bound (cumulative); `count` is the +Inf bucket. The core engine and the router
 * keep these in their stats (JSON in `/stats` and `/lb/stats`); the server turns them into Prometheus
 * histograms when `/metrics` is scraped, so neither needs a metrics library.
 */
export interface HistogramSnapshot {
  /** Upper bounds, ascending (+Inf is implicit: its count is `count`). */
  le: readonly number[]
  /** Observations at most `le[i]`, cumulative: never decreasing, at most `count`. */
  counts: number[]
  /** Sum of the observed values. */
  sum: number
  count: number
}

/** Counts observations into fixed buckets: O(buckets) per observation, no allocation. */
export class BucketHistogram {
  /** Observations in each bucket alone (not cumulative); the last one is (le[last], +Inf]. */
  private readonly perBucket: number[]
  private sum = 0
  private count = 0

  constructor(readonly le: readonly number[]) {
    for (let i = 1; i < le.length; i++) {
      if (!(le[i]! > le[i - 1]!)) throw new RangeError('Histogram bounds must be ascending')
    }
    this.perBucket = new Array<number>(le.length + 1).fill(0)
  }

  observe(value: number): void {
    if (Number.isNaN(value)) return
    let bucket = 0
    while (bucket < this.le.length && value > this.le[bucket]!) bucket++
    this.perBucket[bucket]!++
    this.sum += value
    this.count++
  }

  snapshot(): HistogramSnapshot {
    let running = 0
    const counts = this.le.map((_, i) => {
      running += this.perBucket[i]!
      return running
    })
    return { le: this.le, counts, sum: this.sum, count: this.count }
  }
}
