import { minuteOf, type RouterStateStore, type SharedDeploymentState, type StateStatus } from './router-state'

interface Minute {
  minute: number
  requests: number
  tokens: number
  outcomes: number
  failures: number
}

/** The state of one router instance. Fixed one-minute windows: counters reset when the minute turns. */
export class MemoryState implements RouterStateStore {
  private readonly minutes = new Map<string, Minute>()
  private readonly cooldowns = new Map<string, number>()

  status(): StateStatus {
    return { state: 'memory' }
  }

  private current(id: string, now: number): Minute {
    const minute = minuteOf(now)
    let entry = this.minutes.get(id)
    if (!entry || entry.minute !== minute) {
      entry = { minute, requests: 0, tokens: 0, outcomes: 0, failures: 0 }
      this.minutes.set(id, entry)
    }
    return entry
  }

  async read(ids: readonly string[], now: number) {
    const states = new Map<string, SharedDeploymentState>()
    for (const id of ids) {
      const minute = this.current(id, now)
      const until = this.cooldowns.get(id)
      states.set(id, {
        rpmUsed: minute.requests,
        tpmUsed: minute.tokens,
        ...(until !== undefined && until > now ? { coolingUntil: until } : {}),
      })
    }
    return states
  }

  async takeRequest(id: string, limit: number | undefined, now: number) {
    const minute = this.current(id, now)
    if (limit !== undefined && minute.requests >= limit) return false
    minute.requests++
    return true
  }

  async addTokens(id: string, tokens: number, now: number) {
    this.current(id, now).tokens += tokens
  }

  async recordOutcome(id: string, failed: boolean, now: number) {
    const minute = this.current(id, now)
    minute.outcomes++
    if (failed) minute.failures++
    return { requests: minute.outcomes, failures: minute.failures }
  }

  async coolDown(id: string, until: number) {
    this.cooldowns.set(id, Math.max(until, this.cooldowns.get(id) ?? 0))
  }

  async recover(id: string, now: number) {
    this.cooldowns.delete(id)
    const minute = this.current(id, now)
    minute.failures = 0
    minute.outcomes = 0
  }
}
