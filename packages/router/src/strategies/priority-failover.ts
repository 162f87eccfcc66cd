import type { DeploymentSnapshot, PickContext } from '../deployment-snapshot'
import { pickWeighted } from './weighted-pick'

/**
 * The lowest `priority` tier that still has candidates (the router has already removed cooling-down and
 * already-tried deployments, so a retry naturally fails over to the next tier); weighted random inside it.
 */
export function priorityFailover(
  candidates: readonly DeploymentSnapshot[],
  context: PickContext,
): DeploymentSnapshot | undefined {
  if (candidates.length === 0) return undefined
  const topPriority = Math.min(...candidates.map((candidate) => candidate.priority))
  const tier = candidates.filter((candidate) => candidate.priority === topPriority)
  return pickWeighted(tier, (candidate) => candidate.weight, context.random)
}
