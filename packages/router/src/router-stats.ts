import type { DeploymentRuntime } from './deployment-runtime'
import type { StrategyName } from './deployment-snapshot'
import type { LocalFallbackStats } from './local-fallback-stats'
import type { RouterStateStore } from './router-state'

export interface StatsInput {
  deployments: readonly DeploymentRuntime[]
  state: RouterStateStore
  now: number
  strategy: StrategyName
  /** The in-process model, when the router has one. */
  local?: { enabled: boolean; stats: LocalFallbackStats } | undefined
}

/**
 * Per deployment: counters, latency, cooldown and usage. Ids and group names only: never a key or URL. The
 * read also refreshes what readiness knows of each deployment.
 */
export async function routerStats({ deployments, state, now, strategy, local }: StatsInput) {
  const shared = await state.read(
    deployments.map((deployment) => deployment.stateKey),
    now,
  )
  return {
    strategy,
    ...state.status(),
    // The in-process model when the router falls back to it: requests it served and how they ended.
    ...(local ? { localFallback: { enabled: local.enabled, ...local.stats.snapshot() } } : {}),
    deployments: deployments.map((deployment) => {
      const current = shared.get(deployment.stateKey)
      if (current) deployment.see(current, now)
      return {
        id: deployment.id,
        group: deployment.config.modelName,
        requests: deployment.requests,
        successes: deployment.successes,
        failures: { ...deployment.failures },
        aborted: deployment.aborted,
        inFlight: deployment.inFlight,
        latencyP50Ms: deployment.latencyPercentile(50),
        latencyP95Ms: deployment.latencyPercentile(95),
        // Every attempt, failed ones too, as cumulative buckets (`rerank_kit_router_attempt_duration_seconds`).
        attemptSeconds: deployment.attemptSeconds.snapshot(),
        coolingUntil:
          current?.coolingUntil === undefined ? undefined : new Date(current.coolingUntil).toISOString(),
        rpmUsed: current?.rpmUsed ?? 0,
        tpmUsed: current?.tpmUsed ?? 0,
        rpm: deployment.config.rpm,
        tpm: deployment.config.tpm,
        health:
          deployment.health === undefined
            ? undefined
            : { ...deployment.health, checkedAt: new Date(deployment.health.checkedAt).toISOString() },
      }
    }),
  }
}
