import {
  minuteOf,
  type RouterStateStore,
  type SharedDeploymentState,
  type StateStatus,
  type SyncStateOps,
} from './router-state'

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
  private readonly ops: SyncStateOps = {
    readOne: (id, now) => this.readOne(id, now),
    takeRequest: (id, limit, now) => this.takeRequestNow(id, limit, now),
    addTokens: (id, tokens, now) => {
      this.current(id, now).tokens += tokens
    },
    recordOutcome: (id, failed, now) => this.recordOutcomeNow(id, failed, now),
    recover: (id, now) => this.recoverNow(id, now),
  }

  status(): StateStatus {
    return { state: 'memory' }
  }

  /**
   * The operations without an await, unless one of the async methods was replaced on this instance (tests
   * wrap them to count calls or to fail): the router then goes through the replacement.
   */
  sync(): SyncStateOps | undefined {
    const proto = MemoryState.prototype
    return this.read === proto.read &&
      this.takeRequest === proto.takeRequest &&
      this.addTokens === proto.addTokens &&
      this.recordOutcome === proto.recordOutcome &&
      this.recover === proto.recover
      ? this.ops
      : undefined
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

  private readOne(id: string, now: number): SharedDeploymentState {
    const minute = this.current(id, now)
    const until = this.cooldowns.get(id)
    return until !== undefined && until > now
      ? { rpmUsed: minute.requests, tpmUsed: minute.tokens, coolingUntil: until }
      : { rpmUsed: minute.requests, tpmUsed: minute.tokens }
  }

  private takeRequestNow(id: string, limit: number | undefined, now: number) {
    const minute = this.current(id, now)
    if (limit !== undefined && minute.requests >= limit) return false
    minute.requests++
    return true
  }

  private recordOutcomeNow(id: string, failed: boolean, now: number) {
    const minute = this.current(id, now)
    minute.outcomes++
    if (failed) minute.failures++
    return { requests: minute.outcomes, failures: minute.failures }
  }

  private recoverNow(id: string, now: number) {
    this.cooldowns.delete(id)
    const minute = this.current(id, now)
    minute.failures = 0
    minute.outcomes = 0
  }

  async read(ids: readonly string[], now: number) {
    const states = new Map<string, SharedDeploymentState>()
    for (const id of ids) states.set(id, this.readOne(id, now))
    return states
  }

  async takeRequest(id: string, limit: number | undefined, now: number) {
    return this.takeRequestNow(id, limit, now)
  }

  async addTokens(id: string, tokens: number, now: number) {
    this.current(id, now).tokens += tokens
  }

  async recordOutcome(id: string, failed: boolean, now: number) {
    return this.recordOutcomeNow(id, failed, now)
  }

  async coolDown(id: string, until: number) {
    this.cooldowns.set(id, Math.max(until, this.cooldowns.get(id) ?? 0))
  }

  async recover(id: string, now: number) {
    this.recoverNow(id, now)
  }
}
