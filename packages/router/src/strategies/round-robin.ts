import type { DeploymentSnapshot, PickContext } from '../deployment-snapshot'

/**
 * `candidates[turn % length]` over the candidates sorted by id, so the rotation does not depend on the order
 * the router (or Redis) happened to list them in.
 */
export function roundRobin(
  candidates: readonly DeploymentSnapshot[],
  context: PickContext,
): DeploymentSnapshot | undefined {
  if (candidates.length === 0) return undefined
  const sorted = [...candidates].sort(compareIds)
  // The turn counter comes from outside (possibly a shared store): keep any integer, even negative, in range.
  const turn = Math.trunc(context.turn)
  return sorted[((turn % sorted.length) + sorted.length) % sorted.length]
}

/** Code-unit order, not localeCompare: the rotation must be the same on every machine and locale. */
function compareIds(left: DeploymentSnapshot, right: DeploymentSnapshot): number {
  if (left.id < right.id) return -1
  return left.id > right.id ? 1 : 0
}
