import { BucketHistogram, type HistogramSnapshot } from '@rerank-kit/protocol'
import type { BatchStats } from './batching/batch-scheduler'

export interface EngineStatsSnapshot {
  requests: number
  failedRequests: number
  pairs: number
  /** Tokens of the pairs scored (query and document, special tokens included), padding excluded. */
  tokens: number
  /** Tokens the model ran, padding included (`paddedTokens / tokens` is paddingRatio). */
  paddedTokens: number
  batches: number
  /** Mean pairs per batch. */
  meanBatchSize: number
  /** Padded tokens / real tokens over all batches (1 = no padding waste). */
  paddingRatio: number
  /** Pairs scored per second of inference time. */
  pairsPerSecond: number
  queuedPairs: number
  runningBatches: number
  /** Pairs per batch, one observation per batch (bounds in `batchSizeBuckets`). */
  batchSize: HistogramSnapshot
  /** Each batch's padded tokens / real tokens (bounds in `paddingRatioBuckets`). */
  batchPaddingRatio: HistogramSnapshot
  /** Inference workers that died and were replaced. */
  workerRestarts: number
  latencyMs: { p50: number; p95: number; p99: number }
}

const window = 1024

/** Pairs per batch: powers of two up to past the largest `maxBatchSize` one would set. */
export const batchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] as const
/** Padded / real tokens of a batch: 1 is no waste; sorting by length keeps most batches under 1.25. */
export const paddingRatioBuckets = [1, 1.05, 1.1, 1.25, 1.5, 2, 3, 5] as const

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** Counters and a window of recent request latencies, read by the server's /stats and /metrics. */
export class EngineStats {
  private requests = 0
  private failedRequests = 0
  private pairs = 0
  private batches = 0
  private paddedTokens = 0
  private realTokens = 0
  private inferenceMs = 0
  private latencies: number[] = []
  private next = 0
  private readonly batchSize = new BucketHistogram(batchSizeBuckets)
  private readonly batchPaddingRatio = new BucketHistogram(paddingRatioBuckets)

  recordBatch(batch: BatchStats): void {
    this.batches++
    this.batchSize.observe(batch.size)
    if (batch.realTokens > 0) this.batchPaddingRatio.observe(batch.paddedTokens / batch.realTokens)
    this.pairs += batch.size
    this.paddedTokens += batch.paddedTokens
    this.realTokens += batch.realTokens
    this.inferenceMs += batch.runMs
  }

  recordRequest(latencyMs: number, ok: boolean): void {
    this.requests++
    if (!ok) this.failedRequests++
    if (this.latencies.length < window) this.latencies.push(latencyMs)
    else this.latencies[this.next] = latencyMs
    this.next = (this.next + 1) % window
  }

  snapshot(queuedPairs: number, runningBatches: number, workerRestarts = 0): EngineStatsSnapshot {
    const sorted = [...this.latencies].sort((a, b) => a - b)
    return {
      requests: this.requests,
      failedRequests: this.failedRequests,
      pairs: this.pairs,
      tokens: this.realTokens,
      paddedTokens: this.paddedTokens,
      batches: this.batches,
      meanBatchSize: this.batches === 0 ? 0 : this.pairs / this.batches,
      paddingRatio: this.realTokens === 0 ? 1 : this.paddedTokens / this.realTokens,
      pairsPerSecond: this.inferenceMs === 0 ? 0 : (this.pairs * 1000) / this.inferenceMs,
      queuedPairs,
      runningBatches,
      batchSize: this.batchSize.snapshot(),
      batchPaddingRatio: this.batchPaddingRatio.snapshot(),
      workerRestarts,
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
        p99: percentile(sorted, 0.99),
      },
    }
  }
}
