import type { Reranker } from '@rerank-kit/protocol'
import type { HealthCheck } from './health-checks'

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
  /** The active probe when the router runs health checks (default: a one-document rerank through `reranker`). */
  healthCheck?: HealthCheck
}

const latencyWindow = 100

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
}
