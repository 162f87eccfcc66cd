import type { DeploymentRuntime } from './deployment-runtime'

/** Why a deployment cannot take a call now, and until when (epoch ms) that holds at the earliest. */
export interface Unavailability {
  reason: string
  until: number
  /**
   * `limit`: its own rpm / tpm / max_parallel_requests (a 429 when every deployment is so); `cooling`: failing,
   * cooling down or on its recovery trial (a 503); `tags`: not one the request's tags may use.
   */
  kind: 'limit' | 'cooling' | 'tags'
}

/** Usage and cooldown as the shared state (or the last read of it) gives them. */
export interface UsageView {
  rpmUsed: number
  tpmUsed: number
  coolingUntil?: number | undefined
}

/** Why this process cannot send the deployment another call right now (its trial or parallel slots), if so. */
export function busyness(deployment: DeploymentRuntime, now: number): Unavailability | undefined {
  if (deployment.halfOpen && deployment.trialInFlight) {
    return { reason: 'is on a recovery trial', until: now + 1_000, kind: 'cooling' }
  }
  const { maxParallelRequests } = deployment.config
  if (maxParallelRequests !== undefined && deployment.inFlight >= maxParallelRequests) {
    return {
      reason: `is at max_parallel_requests (${maxParallelRequests})`,
      until: now + 1_000,
      kind: 'limit',
    }
  }
  return undefined
}

/** The first reason the deployment is out: cooling down, then busy, then its rpm, then its tpm. */
export function unavailability(
  deployment: DeploymentRuntime,
  usage: UsageView,
  now: number,
): Unavailability | undefined {
  if (usage.coolingUntil !== undefined && usage.coolingUntil > now) {
    const until = usage.coolingUntil
    return { reason: `is cooling down until ${new Date(until).toISOString()}`, until, kind: 'cooling' }
  }
  const busy = busyness(deployment, now)
  if (busy) return busy
  const { rpm, tpm } = deployment.config
  const nextMinute = (Math.floor(now / 60_000) + 1) * 60_000
  if (rpm !== undefined && usage.rpmUsed >= rpm) {
    return { reason: `is at its rpm limit (${rpm}/min)`, until: nextMinute, kind: 'limit' }
  }
  if (tpm !== undefined && usage.tpmUsed >= tpm) {
    return { reason: `is at its tpm limit (${tpm}/min)`, until: nextMinute, kind: 'limit' }
  }
  return undefined
}
