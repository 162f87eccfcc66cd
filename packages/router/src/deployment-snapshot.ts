/**
 * What a routing strategy sees of one deployment at the moment of a pick: its static settings and its live
 * state (from this process, or from Redis when instances share state). Strategies are pure functions over a
 * list of these, so they are tested without any network or clock.
 */
export interface DeploymentSnapshot {
  /** Unique within the router (e.g. `rerank-small#0`); never contains a secret. */
  readonly id: string
  /** Relative share for weighted strategies (default 1). */
  readonly weight: number
  /** Priority tier: lower is tried first by priority-failover (LiteLLM's `order`; default 0). */
  readonly priority: number
  /** Requests per minute allowed, if limited. */
  readonly rpm?: number | undefined
  /** Tokens per minute allowed, if limited. */
  readonly tpm?: number | undefined
  /** Calls in flight right now. */
  readonly inFlight: number
  /** Requests counted in the current rpm window. */
  readonly rpmUsed: number
  /** Tokens counted in the current tpm window. */
  readonly tpmUsed: number
  /** Mean latency over the recent window in ms; undefined until the deployment has answered. */
  readonly latencyMs?: number | undefined
  /** What one call costs (LiteLLM's `input_cost_per_query`); undefined when not configured. */
  readonly inputCostPerQuery?: number | undefined
}

export type StrategyName =
  | 'simple-shuffle'
  | 'weighted-random'
  | 'round-robin'
  | 'least-busy'
  | 'latency-based-routing'
  | 'priority-failover'
  | 'usage-based-routing'
  | 'cost-based-routing'

export interface PickContext {
  /** In [0, 1); injectable so tests are deterministic. */
  random(): number
  /** Increments on every pick of this group (round-robin reads it). */
  readonly turn: number
  /**
   * latency-based-routing: deployments within this fraction of the fastest are all "fast" and share the load
   * at random (LiteLLM's `lowest_latency_buffer`; default 0.1... 0 means always the single fastest).
   */
  readonly latencyBuffer: number
}

/**
 * Picks one deployment among `candidates` (already filtered: not cooling down, under their limits, not yet
 * tried for this request), or undefined when the list is empty.
 */
export type Strategy = (
  candidates: readonly DeploymentSnapshot[],
  context: PickContext,
) => DeploymentSnapshot | undefined
