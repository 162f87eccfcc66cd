import type { DeploymentSnapshot, PickContext } from '../deployment-snapshot'
import { pickUniform } from './weighted-pick'

/**
 * Deployments not measured yet go first (at random among them): otherwise a new or recovered deployment
 * would never get the call that gives it a latency. Once all are measured, every deployment within
 * `latencyBuffer` of the fastest shares the load at random, so a 1 ms lead does not take all the traffic.
 */
export function latencyBasedRouting(
  candidates: readonly DeploymentSnapshot[],
  context: PickContext,
): DeploymentSnapshot | undefined {
  const unmeasured = candidates.filter((candidate) => !hasLatency(candidate))
  if (unmeasured.length > 0) return pickUniform(unmeasured, context.random)

  const fastest = Math.min(...candidates.map(latencyOf))
  const limit = fastest * (1 + usableBuffer(context.latencyBuffer))
  const fast = candidates.filter((candidate) => latencyOf(candidate) <= limit)
  return pickUniform(fast, context.random)
}

// A NaN or infinite mean is a broken measurement, not a fast or slow deployment: measure it again.
function hasLatency(candidate: DeploymentSnapshot): boolean {
  return candidate.latencyMs !== undefined && Number.isFinite(candidate.latencyMs)
}

function latencyOf(candidate: DeploymentSnapshot): number {
  return candidate.latencyMs ?? Number.POSITIVE_INFINITY
}

// A negative buffer would exclude even the fastest deployment.
function usableBuffer(buffer: number): number {
  return Number.isFinite(buffer) && buffer > 0 ? buffer : 0
}
