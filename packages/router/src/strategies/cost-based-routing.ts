import type { DeploymentSnapshot, PickContext } from '../deployment-snapshot'
import { pickLowest } from './lowest-pick'

/**
 * LiteLLM's cost-based-routing: the cheapest deployment by `inputCostPerQuery`, ties at random (LiteLLM samples
 * the deployments in random order before its stable sort by cost). A deployment without a known cost is taken
 * to be dearer than any priced one, as LiteLLM's default of $5 per token makes it: it serves only when no priced
 * deployment can.
 */
export function costBasedRouting(
  candidates: readonly DeploymentSnapshot[],
  context: PickContext,
): DeploymentSnapshot | undefined {
  return pickLowest(candidates, (candidate) => [costOf(candidate)], context.random)
}

// Number.MAX_VALUE, not Infinity: pickLowest subtracts keys, and Infinity - Infinity is NaN (no tie, no pick).
function costOf(candidate: DeploymentSnapshot): number {
  const cost = candidate.inputCostPerQuery
  return cost !== undefined && Number.isFinite(cost) && cost >= 0 ? cost : Number.MAX_VALUE
}
