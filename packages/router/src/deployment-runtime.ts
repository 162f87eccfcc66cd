import { BucketHistogram, type Reranker } from '@rerank-kit/protocol'
import type { HealthCheck } from './health-checks'
import { minuteOf, type SharedDeploymentState } from './router-state'

/** One deployment as the router is given it: a Reranker (a RerankClient, a LocalReranker) and its limits. */
export interface RouterDeployment {
  /** Unique id; default `${modelName}#${index in its group}`. Shown in stats and logs: no secrets in it. */
  id?: string
  /**
   * The key of its counters and cooldown in the shared state (default: the id). Routers sharing a Redis share
   * the state of deployments with the same key, so it must name the backend, not a position in one config:
   * `routerFromConfig` uses the config's `model_info.id`, else a hash of group, api_base, format and model.
   */
  stateKey?: string
  /** The group: requests whose `model` is this name are routed among the group's deployments. */
  modelName: string
  reranker: Reranker
  weight?: number
  /** Priority tier (LiteLLM's `order`): lower first for priority-failover. */
  priority?: number
  rpm?: number
  tpm?: number
  maxParallelRequests?: number
  /**
   * LiteLLM's `tags`: with `enableTagFiltering`, a request carrying tags goes only to deployments sharing one of
   * them, and a request without tags to the deployments tagged `default` (to all when none is).
   */
  tags?: readonly string[]
  /** LiteLLM's `input_cost_per_query`: what one call costs; cost-based-routing picks the cheapest. */
  inputCostPerQuery?: number
  /** The active probe when the router runs health checks (default: a one-document rerank through `reranker`). */
  healthCheck?: HealthCheck
}

/** The shared state as this process last read or wrote it: readiness answers from it without an await. */
export interface LastSeenState {
  /** The minute the counters belong to: in a later minute they read as 0. */
  minute: number
  rpmUsed: number
  tpmUsed: number
  coolingUntil?: number
}

const latencyWindow = 100

/** Seconds an attempt took (the bounds of the HTTP request histogram). */
export const attemptSecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const

/** What one process knows of a deployment: calls in flight, recent latencies, counters for stats. */
export class DeploymentRuntime {
  inFlight = 0
  requests = 0
  successes = 0
  readonly failures: Record<string, number> = {}
  /** Calls the caller aborted: not failures of the deployment. */
  aborted = 0
  /** Set when a cooldown was seen: the next pick after it ends is a single half-open trial. */
  halfOpen = false
  trialInFlight = false
  /** The last active health check, when the router runs them. */
  health: { healthy: boolean; checkedAt: number; code?: string } | undefined
  /** Undefined until the first read: a deployment never seen is taken to be available. */
  lastSeen: LastSeenState | undefined
  /** Every attempt's duration (answered, failed or aborted), in seconds, since the router started. */
  readonly attemptSeconds = new BucketHistogram(attemptSecondsBuckets)
  private readonly latencies: number[] = []
  // Kept with the window, so the mean every pick reads costs nothing.
  private latencySum = 0

  readonly stateKey: string

  constructor(
    readonly id: string,
    readonly config: RouterDeployment,
  ) {
    this.stateKey = config.stateKey ?? id
  }

  get weight() {
    return this.config.weight ?? 1
  }

  get priority() {
    return this.config.priority ?? 0
  }

  recordLatency(ms: number) {
    this.latencies.push(ms)
    this.latencySum += ms
    if (this.latencies.length > latencyWindow) this.latencySum -= this.latencies.shift()!
  }

  get meanLatencyMs(): number | undefined {
    return this.latencies.length === 0 ? undefined : this.latencySum / this.latencies.length
  }

  latencyPercentile(p: number): number | undefined {
    if (this.latencies.length === 0) return undefined
    const sorted = [...this.latencies].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
  }

  /** A fresh read of the shared state. */
  see(state: SharedDeploymentState, now: number) {
    this.lastSeen = {
      minute: minuteOf(now),
      rpmUsed: state.rpmUsed,
      tpmUsed: state.tpmUsed,
      ...(state.coolingUntil === undefined ? {} : { coolingUntil: state.coolingUntil }),
    }
  }

  /** This process's own writes, mirrored so readiness does not wait for the next read to learn of them. */
  sawUsage(requests: number, tokens: number, now: number) {
    const seen = this.currentSeen(now)
    this.lastSeen = { ...seen, rpmUsed: seen.rpmUsed + requests, tpmUsed: seen.tpmUsed + tokens }
  }

  sawCooldown(until: number, now: number) {
    const seen = this.currentSeen(now)
    this.lastSeen = { ...seen, coolingUntil: Math.max(until, seen.coolingUntil ?? 0) }
  }

  sawRecovery(now: number) {
    const { coolingUntil: _ended, ...seen } = this.currentSeen(now)
    this.lastSeen = seen
  }

  private currentSeen(now: number): LastSeenState {
    const minute = minuteOf(now)
    const seen = this.lastSeen
    if (seen === undefined) return { minute, rpmUsed: 0, tpmUsed: 0 }
    if (seen.minute === minute) return seen
    // A new minute: the counters start again, a cooldown stands until it ends.
    return {
      minute,
      rpmUsed: 0,
      tpmUsed: 0,
      ...(seen.coolingUntil === undefined ? {} : { coolingUntil: seen.coolingUntil }),
    }
  }
}
