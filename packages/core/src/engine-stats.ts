import type { BatchStats } from './batching/batch-scheduler'

export interface EngineStatsSnapshot {
  requests: number
  failedRequests: number
  pairs: number
  batches: number
  /** Mean pairs per batch. */
  meanBatchSize: number
  /** Padded tokens / real tokens over all batches (1 = no padding waste). */
  paddingRatio: number
  /** Pairs scored per second of inference time. */
  pairsPerSecond: number
  queuedPairs: number
  runningBatches: number
  latencyMs: { p50: number; p95: number; p99: number }
}

const window = 1024

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

  recordBatch(batch: BatchStats): void {
    this.batches++
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

  snapshot(queuedPairs: number, runningBatches: number): EngineStatsSnapshot {
    const sorted = [...this.latencies].sort((a, b) => a - b)
    return {
      requests: this.requests,
      failedRequests: this.failedRequests,
      pairs: this.pairs,
      batches: this.batches,
      meanBatchSize: this.batches === 0 ? 0 : this.pairs / this.batches,
      paddingRatio: this.realTokens === 0 ? 1 : this.paddedTokens / this.realTokens,
      pairsPerSecond: this.inferenceMs === 0 ? 0 : (this.pairs * 1000) / this.inferenceMs,
      queuedPairs,
      runningBatches,
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
        p99: percentile(sorted, 0.99),
      },
    }
  }
}
