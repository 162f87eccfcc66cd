import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BatchScheduler } from './batch-scheduler'

// The scheduler picks each batch from buckets of one length near the oldest pair, instead of sorting the whole
// queue per batch (which took most of the main thread with a full queue). This checks that the batches are
// exactly those of the plain definition: sort every waiting pair by (length, arrival), start at the oldest,
// and grow towards whichever neighbour adds less padding while the budget and the size cap allow.

interface Item {
  id: number
  length: number
}

/** The definition, written plainly: the whole queue sorted for every batch. */
function referenceBatches(items: Item[], maxBatchTokens: number, maxBatchSize: number): number[][] {
  let pending = items.map((item, seq) => ({ item, seq }))
  const batches: number[][] = []
  while (pending.length > 0) {
    const anchor = pending.reduce((oldest, entry) => (entry.seq < oldest.seq ? entry : oldest))
    const sorted = [...pending].sort((a, b) => a.item.length - b.item.length || a.seq - b.seq)
    let low = sorted.indexOf(anchor)
    let high = low
    let longest = anchor.item.length
    while (high - low + 1 < maxBatchSize) {
      const count = high - low + 1
      const shorter = low > 0 ? sorted[low - 1] : undefined
      const longer = high < sorted.length - 1 ? sorted[high + 1] : undefined
      const shorterFits = shorter !== undefined && (count + 1) * longest <= maxBatchTokens
      const longerFits = longer !== undefined && (count + 1) * longer.item.length <= maxBatchTokens
      if (!shorterFits && !longerFits) break
      const shorterCost = shorterFits ? longest - shorter!.item.length : Number.POSITIVE_INFINITY
      const longerCost = longerFits ? (longer!.item.length - longest) * count : Number.POSITIVE_INFINITY
      if (shorterCost <= longerCost) low--
      else {
        high++
        longest = longer!.item.length
      }
    }
    const batch = sorted.slice(low, high + 1)
    batches.push(batch.map((entry) => entry.item.id))
    pending = pending.filter((entry) => !batch.includes(entry))
  }
  return batches
}

describe('BatchScheduler batch order', () => {
  it('takes the same batches as sorting the whole queue each time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 40, max: 400 }),
        async (lengths, maxBatchSize, maxBatchTokens) => {
          const batches: number[][] = []
          const scheduler = new BatchScheduler<Item>({
            maxBatchTokens,
            maxBatchSize,
            maxWaitMs: 0,
            maxQueuedItems: 10_000,
            concurrency: 1,
            runBatch: async (batch) => {
              batches.push(batch.map((item) => item.id))
              return Float64Array.from(batch, (item) => item.id)
            },
          })
          const items = lengths.map((length, id) => ({ id, length }))
          const raw = await scheduler.submit(items)
          expect(Array.from(raw)).toEqual(items.map((item) => item.id))
          expect(batches).toEqual(referenceBatches(items, maxBatchTokens, maxBatchSize))
        },
      ),
      { numRuns: 200, seed: 20261128 },
    )
  })
})
