import type { DeploymentSnapshot, PickContext } from '../deployment-snapshot'
import { pickWeighted } from './weighted-pick'

/** Random, proportional to `weight`; weights <= 0 are never picked unless every weight is <= 0 (then uniform). */
export function weightedRandom(
  candidates: readonly DeploymentSnapshot[],
  context: PickContext,
): DeploymentSnapshot | undefined {
  return pickWeighted(candidates, (candidate) => candidate.weight, context.random)
}
