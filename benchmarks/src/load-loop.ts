/** What one timed run did: requests completed, wall time, and every request's latency. */
export interface RunResult {
  requests: number
  elapsedMs: number
  latenciesMs: number[]
}

/**
 * `concurrency` callers each awaiting `call()` back to back for `seconds`; every call is timed on its own
 * (performance.now, sub-millisecond), so percentiles come from real per-request latencies.
 */
export async function runLoop(
  call: () => Promise<unknown>,
  concurrency: number,
  seconds: number,
): Promise<RunResult> {
  const latenciesMs: number[] = []
  const started = performance.now()
  const deadline = started + seconds * 1000
  const caller = async () => {
    while (performance.now() < deadline) {
      const before = performance.now()
      await call()
      latenciesMs.push(performance.now() - before)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, caller))
  return { requests: latenciesMs.length, elapsedMs: performance.now() - started, latenciesMs }
}

export interface RunSummary {
  rps: number
  p50Ms: number
  p99Ms: number
}

export function summarise(run: RunResult): RunSummary {
  return {
    rps: (run.requests / run.elapsedMs) * 1000,
    p50Ms: percentile(run.latenciesMs, 50),
    p99Ms: percentile(run.latenciesMs, 99),
  }
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
