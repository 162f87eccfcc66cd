import type { RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { BatchScheduler, type BatchSchedulerOptions } from './batch-scheduler'

// Admission by the expected wait: counted in tokens, never refusing into an empty queue, and forgetting, while
// idle, a drain rate measured when the main thread was starved. A stand-in runs batches (timers), so the speeds
// are known; the real engine meets the same scenario in packages/cli/src/hostile-large-document.test.ts.

interface Item {
  id: number
  length: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Batches take 5 ms plus `tokensPerMs`: small batches run far below a full one's speed. */
function scheduler(options: Partial<BatchSchedulerOptions<Item>> = {}, tokensPerMs = 50) {
  return new BatchScheduler<Item>({
    maxBatchTokens: 1000,
    maxBatchSize: 100,
    maxWaitMs: 0,
    maxQueuedItems: 100_000,
    concurrency: 1,
    runBatch: async (items) => {
      await sleep(5 + items.reduce((sum, item) => sum + item.length, 0) / tokensPerMs)
      return Float64Array.from(items, (item) => item.id)
    },
    ...options,
  })
}

let nextId = 0
const items = (count: number, length: number): Item[] =>
  Array.from({ length: count }, () => ({ id: nextId++, length }))

const codeOf = (outcome: PromiseSettledResult<unknown>) =>
  outcome.status === 'fulfilled' ? 'ok' : ((outcome.reason as RerankError).code ?? 'other')

/**
 * A request running (it leaves the queue at once for the idle worker), one waiting behind it, and the
 * candidate: only the last meets a queue that is not empty. What became of the waiting one and the candidate.
 */
async function behindQueue(queue: BatchScheduler<Item>, waiting: Item[], candidate: Item[]) {
  const outcomes = await Promise.allSettled([
    queue.submit(items(10, 100)),
    queue.submit(waiting),
    queue.submit(candidate),
  ])
  return outcomes.slice(1).map(codeOf)
}

describe('BatchScheduler admission', () => {
  it('never refuses into an empty queue: a big request after a few small ones is served', async () => {
    // Five 2-pair requests measure 2 pairs per ~5 ms; 10,000 pairs at that rate look 25 s long, over the
    // 1 s budget: the request was refused with "0 pairs waiting", every time it was retried.
    const queue = scheduler({ maxQueueWaitMs: 1000, maxBatchTokens: 4096 }, 5000)
    for (let i = 0; i < 5; i++) await queue.submit(items(2, 6))
    for (let attempt = 0; attempt < 3; attempt++) {
      const raw = await queue.submit(items(10_000, 14))
      expect(raw).toHaveLength(10_000)
    }
  })

  it('one request that can never fit the queue is payload_too_large (413) naming the limit', async () => {
    const queue = scheduler({ maxQueuedItems: 500, maxQueueWaitMs: 1000 })
    const error = (await queue.submit(items(501, 5)).catch((e: unknown) => e)) as RerankError
    expect(error.code).toBe('payload_too_large')
    expect(error.status).toBe(413)
    expect(error.message).toBe('The request has 501 pairs; at most 500 fit the queue')
    expect(queue.refusal(501)?.code).toBe('payload_too_large')
  })

  it('estimates the wait from tokens: short pairs behind long ones are not costed as long pairs', async () => {
    const queue = scheduler({ maxQueueWaitMs: 100 })
    // A backlog of long pairs (100 tokens): full batches of 10 pairs, ~25 ms each, so 0.4 pairs per ms.
    await Promise.all(Array.from({ length: 8 }, () => queue.submit(items(10, 100))))
    // One long request waiting (1,000 tokens), then 200 short pairs (1,000 tokens): ~50 ms of work in all.
    // Counted in pairs at the long pairs' rate, 210 pairs would be ~500 ms, refused.
    expect(await behindQueue(queue, items(10, 100), items(200, 5))).toEqual(['ok', 'ok'])
    // And the wait still refuses real excess: 20,000 more tokens behind a queue is ~500 ms.
    expect(await behindQueue(queue, items(10, 100), items(200, 100))).toEqual(['ok', 'overloaded'])
  })

  it('forgets, while idle, a drain rate measured with a starved main thread', async () => {
    const queue = scheduler({
      maxQueueWaitMs: 60,
      idleHalfLifeMs: 20,
      // The main thread is busy 60 ms after every batch (as while reading a burst): the queue drains at
      // ~1,000 tokens per 85 ms though a batch takes 25 ms.
      onBatch: () => {
        const until = performance.now() + 60
        while (performance.now() < until) {
          // busy
        }
      },
    })
    await Promise.all(Array.from({ length: 12 }, () => queue.submit(items(10, 100))))
    // Right after the burst, 1,500 tokens of work are ~115 ms at the measured rate: over the 60 ms budget.
    expect(await behindQueue(queue, items(10, 100), items(5, 100))).toEqual(['ok', 'overloaded'])
    await queue.drain()
    // After an idle stretch of many half-lives the estimate is the batches' own speed again (~38 ms): it fits.
    await sleep(300)
    expect(await behindQueue(queue, items(10, 100), items(5, 100))).toEqual(['ok', 'ok'])
  })
})
