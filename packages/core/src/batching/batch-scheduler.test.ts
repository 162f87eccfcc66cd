import { RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { BatchScheduler, type BatchSchedulerOptions, type BatchStats } from './batch-scheduler'

// Scheduling semantics with a stand-in for inference (each item's "score" is its id), so every assertion is
// about which items ran together and where results went. Real models run in local-reranker.test.ts.

interface Item {
  id: number
  length: number
  poison?: boolean
}

function setup(options: Partial<BatchSchedulerOptions<Item>> = {}) {
  const batches: Item[][] = []
  const stats: BatchStats[] = []
  const scheduler = new BatchScheduler<Item>({
    maxBatchTokens: 1000,
    maxBatchSize: 100,
    maxWaitMs: 0,
    maxQueuedItems: 10_000,
    concurrency: 1,
    runBatch: async (items) => {
      batches.push(items)
      await new Promise((resolve) => setTimeout(resolve, 5))
      if (items.some((item) => item.poison)) throw new Error('poisoned batch')
      return Float64Array.from(items, (item) => item.id)
    },
    onBatch: (batch) => stats.push(batch),
    ...options,
  })
  return { scheduler, batches, stats }
}

const items = (ids: number[], length = 10): Item[] => ids.map((id) => ({ id, length }))

describe('BatchScheduler', () => {
  it('batches pairs across concurrent requests and routes every result back to its request', async () => {
    const { scheduler, batches, stats } = setup({ maxWaitMs: 20 })
    const results = await Promise.all([
      scheduler.submit(items([1, 2, 3])),
      scheduler.submit(items([4, 5])),
      scheduler.submit(items([6, 7, 8, 9])),
    ])
    expect(results.map((raw) => Array.from(raw))).toEqual([
      [1, 2, 3],
      [4, 5],
      [6, 7, 8, 9],
    ])
    expect(batches).toHaveLength(1)
    expect(stats[0]).toMatchObject({ size: 9, jobs: 3, paddedTokens: 90, realTokens: 90 })
  })

  it('cuts batches by padded-token budget and size cap, grouping similar lengths', async () => {
    const { scheduler, batches, stats } = setup({ maxBatchTokens: 100, maxBatchSize: 4 })
    const lengths = [5, 50, 6, 48, 7, 45, 8, 5, 6]
    const raw = await scheduler.submit(lengths.map((length, id) => ({ id, length })))
    expect(Array.from(raw)).toEqual(lengths.map((_, id) => id))
    for (const batch of stats) {
      expect(batch.paddedTokens).toBeLessThanOrEqual(100)
      expect(batch.size).toBeLessThanOrEqual(4)
    }
    // Long pairs never share a batch with short ones here: padding waste stays small.
    for (const batch of batches) {
      const batchLengths = batch.map((item) => item.length)
      expect(Math.max(...batchLengths) - Math.min(...batchLengths)).toBeLessThanOrEqual(5)
    }
    const padded = stats.reduce((sum, batch) => sum + batch.paddedTokens, 0)
    const real = stats.reduce((sum, batch) => sum + batch.realTokens, 0)
    expect(padded / real).toBeLessThan(1.1)
  })

  it('always includes the oldest waiting pair in the next batch (no starvation)', async () => {
    const { scheduler, batches } = setup({ maxBatchTokens: 60, maxBatchSize: 3 })
    // The worker is busy, so the long pair and a flood of short ones queue up together.
    const blocker = scheduler.submit(items([999]))
    const first = scheduler.submit([{ id: 100, length: 20 }])
    const flood = scheduler.submit(
      items(
        Array.from({ length: 12 }, (_, i) => i),
        5,
      ),
    )
    await Promise.all([blocker, first, flood])
    expect(batches[0]!.map((item) => item.id)).toEqual([999])
    // Shortest-first would leave the long pair for last; it goes in the very next batch.
    expect(batches[1]!.map((item) => item.id)).toContain(100)
    expect(batches).toHaveLength(6)
  })

  it('refuses at once with overloaded and a retry hint when the queue is full', async () => {
    const { scheduler } = setup({ maxQueuedItems: 5 })
    const running = scheduler.submit(items([1, 2, 3]))
    const queued = scheduler.submit(items([4, 5, 6, 7, 8]))
    const started = performance.now()
    const refused = await scheduler.submit(items([9])).catch((error: unknown) => error)
    expect(performance.now() - started).toBeLessThan(50)
    expect(RerankError.isInstance(refused)).toBe(true)
    expect((refused as RerankError).code).toBe('overloaded')
    expect((refused as RerankError).status).toBe(503)
    expect((refused as RerankError).retryAfterMs).toBeGreaterThanOrEqual(100)
    await Promise.all([running, queued])
    const tooBig = await scheduler.submit(items([1, 2, 3, 4, 5, 6])).catch((error: unknown) => error)
    expect((tooBig as RerankError).code).toBe('payload_too_large')
  })

  it('drops an aborted request’s queued pairs before they are computed', async () => {
    const { scheduler, batches } = setup({ maxBatchSize: 2 })
    const controller = new AbortController()
    const first = scheduler.submit(items([1, 2]))
    const doomed = scheduler.submit(items([10, 11, 12, 13]), controller.signal)
    controller.abort()
    await expect(doomed).rejects.toMatchObject({ code: 'aborted' })
    await first
    await scheduler.drain()
    expect(batches.flat().map((item) => item.id)).toEqual([1, 2])
    await expect(scheduler.submit(items([1]), AbortSignal.abort())).rejects.toMatchObject({ code: 'aborted' })
  })

  it("one request's failure does not fail the others in its batch", async () => {
    const { scheduler } = setup({ maxWaitMs: 20 })
    const good = scheduler.submit(items([1, 2]))
    const bad = scheduler.submit([{ id: 3, length: 10, poison: true }])
    const alsoGood = scheduler.submit(items([4]))
    await expect(bad).rejects.toThrow('poisoned batch')
    expect(Array.from(await good)).toEqual([1, 2])
    expect(Array.from(await alsoGood)).toEqual([4])
  })

  it('waits for more pairs only while a batch is not full', async () => {
    const { scheduler, batches } = setup({ maxWaitMs: 30, maxBatchSize: 2 })
    const started = performance.now()
    await scheduler.submit(items([1, 2]))
    expect(performance.now() - started).toBeLessThan(25)
    const lone = performance.now()
    await scheduler.submit(items([3]))
    expect(performance.now() - lone).toBeGreaterThanOrEqual(25)
    expect(batches.map((batch) => batch.length)).toEqual([2, 1])
  })

  it('runs up to `concurrency` batches at once and drains', async () => {
    let running = 0
    let peak = 0
    const scheduler = new BatchScheduler<Item>({
      maxBatchTokens: 20,
      maxBatchSize: 2,
      maxWaitMs: 0,
      maxQueuedItems: 100,
      concurrency: 3,
      runBatch: async (batch) => {
        peak = Math.max(peak, ++running)
        await new Promise((resolve) => setTimeout(resolve, 10))
        running--
        return Float64Array.from(batch, (item) => item.id)
      },
    })
    const done = scheduler.submit(items(Array.from({ length: 12 }, (_, i) => i)))
    await scheduler.drain()
    expect(peak).toBe(3)
    expect(Array.from(await done)).toEqual(Array.from({ length: 12 }, (_, i) => i))
  })

  it('refuses at once past the expected wait, measured from how fast the queue drains', async () => {
    // Batches of at most 4 items taking about 20 ms each: about 0.2 items per ms. A 100 ms wait is about 20
    // items, far below the count limit of 10,000, which alone would accept everything.
    const { scheduler } = setup({
      maxBatchSize: 4,
      maxQueueWaitMs: 100,
      runBatch: async (batch) => {
        await new Promise((resolve) => setTimeout(resolve, 20))
        return Float64Array.from(batch, (item) => item.id)
      },
    })
    // A backlog first, so the drain rate is measured under load.
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => scheduler.submit(items([i * 4, i * 4 + 1, i * 4 + 2, i * 4 + 3]))),
    )
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        scheduler.submit(items([1000 + i * 4, 1001 + i * 4, 1002 + i * 4, 1003 + i * 4])),
      ),
    )
    const accepted = outcomes.filter((outcome) => outcome.status === 'fulfilled')
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected')
    // A slower machine drains slower and accepts fewer: the bound holds either way.
    expect(accepted.length).toBeGreaterThan(0)
    expect(accepted.length).toBeLessThan(40)
    for (const outcome of refused) {
      const error = (outcome as PromiseRejectedResult).reason as RerankError
      expect(error.code).toBe('overloaded')
      expect(error.retryAfterMs).toBeGreaterThan(0)
    }
    // Every accepted request got its own results back.
    for (const outcome of accepted) {
      const raw = (outcome as PromiseFulfilledResult<Float64Array>).value
      expect(raw[1]! - raw[0]!).toBe(1)
    }
  })

  it('does not refuse a burst on the time of one batch that waited for a busy main thread', async () => {
    // The first batch runs 5 ms, but its answer is read only after the main thread was busy 200 ms (reading
    // a burst, say): timed alone, the queue would seem to drain at 4 items per 200 ms, 10 s for the burst.
    const { scheduler } = setup({ maxBatchSize: 4, maxQueueWaitMs: 100 })
    const first = scheduler.submit(items([0, 1, 2, 3]))
    const busyUntil = performance.now() + 200
    while (performance.now() < busyUntil) {
      // Busy, as when parsing and tokenizing the rest of a burst.
    }
    await first
    const burst = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        scheduler.submit(items([10 + i * 4, 11 + i * 4, 12 + i * 4, 13 + i * 4])),
      ),
    )
    expect(burst.filter((outcome) => outcome.status === 'rejected')).toEqual([])
  })

  it('says saturated near the wait limit', async () => {
    // About 0.2 items per ms again; a 1 s wait is about 200 items, so the refusals leave the queue between
    // 90 % and 100 % of the limit whatever one batch takes out of it.
    const { scheduler } = setup({
      maxBatchSize: 4,
      maxQueueWaitMs: 1000,
      runBatch: async (batch) => {
        await new Promise((resolve) => setTimeout(resolve, 20))
        return Float64Array.from(batch, (item) => item.id)
      },
    })
    expect(scheduler.saturated).toBe(false)
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => scheduler.submit(items([i * 4, i * 4 + 1, i * 4 + 2, i * 4 + 3]))),
    )
    const pending = Array.from({ length: 100 }, (_, i) =>
      scheduler
        .submit(items([1000 + i * 4, 1001 + i * 4, 1002 + i * 4, 1003 + i * 4]))
        .catch((error) => error),
    )
    expect(scheduler.saturated).toBe(true)
    await Promise.all(pending)
    expect(scheduler.saturated).toBe(false)
  })
})

describe('BatchScheduler job times', () => {
  it('records when a job was queued, when its first batch started and when its last one ended', async () => {
    // One worker, batches of 2, 5 ms each: job A runs in batches 1 and 2, job B waits for both, then runs.
    const { scheduler, stats } = setup({ maxBatchSize: 2 })
    const timesA = { submittedAt: 0, firstStartAt: 0, lastEndAt: 0 }
    const timesB = { submittedAt: 0, firstStartAt: 0, lastEndAt: 0 }
    const before = performance.now()
    const [a, b] = await Promise.all([
      scheduler.submit(items([1, 2, 3, 4]), undefined, timesA),
      scheduler.submit(items([5]), undefined, timesB),
    ])
    const after = performance.now()
    expect(Array.from(a)).toEqual([1, 2, 3, 4])
    expect(Array.from(b)).toEqual([5])
    expect(stats.map((batch) => batch.size)).toEqual([2, 2, 1])
    for (const times of [timesA, timesB]) {
      expect(times.submittedAt).toBeGreaterThanOrEqual(before)
      expect(times.firstStartAt).toBeGreaterThanOrEqual(times.submittedAt)
      expect(times.lastEndAt).toBeGreaterThan(times.firstStartAt)
      expect(times.lastEndAt).toBeLessThanOrEqual(after)
    }
    // A spans two batches of about 5 ms; B queued behind both of them.
    expect(timesA.lastEndAt - timesA.firstStartAt).toBeGreaterThanOrEqual(8)
    expect(timesB.firstStartAt - timesB.submittedAt).toBeGreaterThanOrEqual(8)
    expect(timesB.firstStartAt).toBeGreaterThanOrEqual(timesA.lastEndAt)
  })

  it('leaves the start and end unset for a job that never ran', async () => {
    const { scheduler } = setup({ maxWaitMs: 50 })
    const controller = new AbortController()
    const times = { submittedAt: 0, firstStartAt: 0, lastEndAt: 0 }
    const pending = scheduler.submit(items([1]), controller.signal, times)
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'aborted' })
    expect(times.submittedAt).toBeGreaterThan(0)
    expect(Number.isNaN(times.firstStartAt)).toBe(true)
    expect(Number.isNaN(times.lastEndAt)).toBe(true)
  })
})
