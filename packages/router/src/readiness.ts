import { type UsageView, unavailability } from './availability'
import type { DeploymentRuntime } from './deployment-runtime'
import { minuteOf } from './router-state'

export interface Readiness {
  ready: boolean
  /** Why not: each group and why each of its deployments is out (ids only). */
  reason?: string
}

/**
 * Whether any group can take a request now, from what was last seen of the shared state (picks, stats reads,
 * health checks and the router's periodic refresh keep it current), so a `/ready` route answers without an
 * await. A deployment never seen is taken to be available; the local model, when the router falls back to it,
 * can always serve.
 */
export function readinessOf(
  groups: ReadonlyMap<string, readonly DeploymentRuntime[]>,
  now: number,
  localServes: boolean,
): Readiness {
  if (localServes) return { ready: true }
  if (groups.size === 0) return { ready: false, reason: 'No deployments' }
  const why: string[] = []
  for (const [group, members] of groups) {
    const reasons: string[] = []
    for (const deployment of members) {
      const out = unavailability(deployment, lastUsage(deployment, now), now)
      if (out === undefined) return { ready: true }
      reasons.push(`${deployment.id} ${out.reason}`)
    }
    why.push(`"${group}": ${reasons.join(', ')}`)
  }
  return { ready: false, reason: `No group can serve: ${why.join('; ')}` }
}

function lastUsage(deployment: DeploymentRuntime, now: number): UsageView {
  const seen = deployment.lastSeen
  if (seen === undefined) return { rpmUsed: 0, tpmUsed: 0 }
  // Counters of an earlier minute are spent: the window has turned.
  const sameMinute = seen.minute === minuteOf(now)
  return {
    rpmUsed: sameMinute ? seen.rpmUsed : 0,
    tpmUsed: sameMinute ? seen.tpmUsed : 0,
    coolingUntil: seen.coolingUntil,
  }
}
