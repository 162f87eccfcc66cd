/**
 * The state router instances may share: per-minute request and token counters, failure counters and
 * cooldowns. In memory by default; a Redis store shares it across instances (same keys, fixed one-minute
 * windows like LiteLLM's per-minute keys). In-flight counts and latencies stay per process: they describe
 * this process's view of the network.
 */
export interface RouterStateStore {
  /** Where the state lives now, as the router's stats show it; a note when it is not where it should be. */
  status(): StateStatus
  /** Usage of this minute and cooldowns, for the given deployments. */
  read(ids: readonly string[], now: number): Promise<Map<string, SharedDeploymentState>>
  /** Counts one request against the deployment's rpm for this minute, unless that would pass `limit`. */
  takeRequest(id: string, limit: number | undefined, now: number): Promise<boolean>
  addTokens(id: string, tokens: number, now: number): Promise<void>
  /** Counts an outcome of this minute; returns the minute's totals so far. */
  recordOutcome(id: string, failed: boolean, now: number): Promise<{ requests: number; failures: number }>
  coolDown(id: string, until: number): Promise<void>
  /** Ends a cooldown early (a successful half-open trial) and clears the minute's failures. */
  recover(id: string, now: number): Promise<void>
  /** Releases connections the store opened (a Redis client it created); optional for stores holding none. */
  close?(): Promise<void>
  /**
   * Optional: the same operations answered at once, for a store that needs no I/O (in memory). When it returns
   * them, the router's per-call path uses them without an await; undefined (or absent, as for Redis): the
   * async methods above. A store must return undefined when any of its async methods was replaced, so the
   * router never bypasses them.
   */
  sync?(): SyncStateOps | undefined
}

/** The synchronous form of a store's per-call operations (see `RouterStateStore.sync`). */
export interface SyncStateOps {
  /** One deployment's usage of this minute and cooldown, as `read` gives it. */
  readOne(id: string, now: number): SharedDeploymentState
  takeRequest(id: string, limit: number | undefined, now: number): boolean
  addTokens(id: string, tokens: number, now: number): void
  recordOutcome(id: string, failed: boolean, now: number): { requests: number; failures: number }
  recover(id: string, now: number): void
}

/** Spread into the router's stats as is: it must never carry a secret (a Redis URL holds a password). */
export interface StateStatus {
  state: 'memory' | 'redis'
  /** Why the state is not where it was configured to be, e.g. Redis unreachable and memory serving. */
  stateNote?: string
  /** The circuit breaker around Redis, for a store that has one (`FallbackState`). */
  stateBreaker?: StateBreakerStatus
}

export interface StateBreakerStatus {
  /** closed: on Redis; open: on memory, no Redis call until `probeAt`; half-open: on memory, probing Redis. */
  state: 'closed' | 'open' | 'half-open'
  /** When the breaker entered this state (ISO 8601). */
  since: string
  /** While open: when the next probe may go (ISO 8601). */
  probeAt?: string
  /** How many times the store changed between Redis and memory (each direction counts one). */
  switches: number
}

export interface SharedDeploymentState {
  rpmUsed: number
  tpmUsed: number
  /** Epoch ms until which the deployment is cooling down (absent: not cooling, or the cooldown ended). */
  coolingUntil?: number
}

export const minuteOf = (now: number) => Math.floor(now / 60_000)
