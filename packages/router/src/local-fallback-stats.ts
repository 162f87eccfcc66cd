import { fromUnknown } from '@rerank-kit/protocol'

/** What `/lb/stats` shows of the in-process model the router falls back to: calls, outcomes, latency. */
export class LocalFallbackStats {
  private requests = 0
  private successes = 0
  private readonly failures: Record<string, number> = {}
  private lastUsedAt: number | undefined

  async track<T>(call: () => Promise<T>): Promise<T> {
    this.requests++
    this.lastUsedAt = Date.now()
    try {
      const answer = await call()
      this.successes++
      return answer
    } catch (error) {
      const code = fromUnknown(error).code
      this.failures[code] = (this.failures[code] ?? 0) + 1
      throw error
    }
  }

  snapshot() {
    return {
      requests: this.requests,
      successes: this.successes,
      failures: { ...this.failures },
      lastUsedAt: this.lastUsedAt === undefined ? undefined : new Date(this.lastUsedAt).toISOString(),
    }
  }
}
