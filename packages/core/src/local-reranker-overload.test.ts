import { join } from 'node:path'
import { RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { LocalReranker } from './local-reranker'
import { fixturesDir } from './test-support/reference-scorer'

// Overload must be refused before any work is spent on the refused request: tokenizing happens on the host's
// main thread, which also serves the accepted requests. A request that would fail its tokenization (a document
// over the model's limit with truncate: false) shows which came first: it is refused as overloaded, not as
// invalid, only if it was refused before being tokenized.

const model = join(fixturesDir, 'tiny-bert-reranker')
const query = 'what causes the seasons on earth'
const many = (count: number) =>
  Array.from({ length: count }, (_, i) => `document ${i} about the seasons `.repeat(3))
const untokenizable = (count: number) => ['word '.repeat(600), ...many(count - 1)]

describe('the queue limit', () => {
  it('refuses a request before tokenizing it when the queue is full', async () => {
    const reranker = await LocalReranker.create({
      models: [{ model, name: 'bert', device: 'cpu', workers: 1, maxBatchSize: 4, maxQueuedPairs: 600 }],
    })
    try {
      const big = reranker.rerank({ query, documents: many(500) })
      while (reranker.stats().bert!.queuedPairs === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      const refused = await reranker
        .rerank({ query, documents: untokenizable(200), truncate: false })
        .catch((e: unknown) => e)
      expect(RerankError.isInstance(refused)).toBe(true)
      expect((refused as RerankError).code).toBe('overloaded')
      expect((refused as RerankError).retryAfterMs).toBeGreaterThan(0)
      expect((await big).results).toHaveLength(500)
      // With room again, the same request is tokenized, and refused for what it is.
      const invalid = await reranker
        .rerank({ query, documents: untokenizable(200), truncate: false })
        .catch((e: unknown) => e)
      expect((invalid as RerankError).code).toBe('invalid_request')
    } finally {
      await reranker.close()
    }
  })

  it('counts the pairs of requests still being tokenized: of two arriving together, the one past the limit is refused untouched', async () => {
    const reranker = await LocalReranker.create({
      models: [{ model, name: 'bert', device: 'cpu', workers: 1, maxQueuedPairs: 600 }],
    })
    try {
      // Nothing is queued yet when the second arrives: only the first one's announced 500 pairs fill the queue.
      const [first, second] = await Promise.allSettled([
        reranker.rerank({ query, documents: many(500) }),
        reranker.rerank({ query, documents: untokenizable(200), truncate: false }),
      ])
      expect(first.status).toBe('fulfilled')
      expect((first as PromiseFulfilledResult<{ results: unknown[] }>).value.results).toHaveLength(500)
      expect(second.status).toBe('rejected')
      expect(((second as PromiseRejectedResult).reason as RerankError).code).toBe('overloaded')
      expect(reranker.stats().bert!.pairs).toBe(500)
    } finally {
      await reranker.close()
    }
  })
})
