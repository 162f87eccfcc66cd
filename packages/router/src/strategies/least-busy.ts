import type { DeploymentSnapshot, PickContext } from '../deployment-snapshot'
import { pickLowest } from './lowest-pick'

/** Fewest calls in flight; ties at random so idle deployments share the next burst. */
export function leastBusy(
  candidates: readonly DeploymentSnapshot[],
  context: PickContext,
): DeploymentSnapshot | undefined {
  return pickLowest(candidates, (candidate) => [candidate.inFlight], context.random)
}
