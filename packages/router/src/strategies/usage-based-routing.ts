import type { DeploymentSnapshot, PickContext } from '../deployment-snapshot'
import { pickLowest } from './lowest-pick'

/**
 * Lowest use of this minute's budget; ties at random.
 *
 * When every candidate has a limit, use is the fraction of it spent (`rpmUsed / rpm`, `tpmUsed / tpm`, the
 * larger of the two when both are set), so a big deployment takes proportionally more traffic. If any
 * candidate has no limit, a fraction cannot be compared with it, so the whole pick falls back to raw
 * counts: fewest tokens, then fewest requests (LiteLLM's usage-based routing compares raw tpm).
 */
export function usageBasedRouting(
  candidates: readonly DeploymentSnapshot[],
  context: PickContext,
): DeploymentSnapshot | undefined {
  if (candidates.every(hasLimit))
    return pickLowest(candidates, (candidate) => [usedFraction(candidate)], context.random)
  return pickLowest(candidates, (candidate) => [candidate.tpmUsed, candidate.rpmUsed], context.random)
}

function hasLimit(candidate: DeploymentSnapshot): boolean {
  return candidate.rpm !== undefined || candidate.tpm !== undefined
}

/** The larger share spent of the rpm and tpm budgets: the closer one is the one that will run out first. */
function usedFraction(candidate: DeploymentSnapshot): number {
  return Math.max(fractionOf(candidate.rpmUsed, candidate.rpm), fractionOf(candidate.tpmUsed, candidate.tpm))
}

function fractionOf(used: number, limit: number | undefined): number {
  // No limit on this axis: it never binds, so it must not outweigh the axis that does.
  if (limit === undefined) return 0
  // A limit of 0 allows nothing: full, rather than a division by zero.
  return limit > 0 ? used / limit : Number.POSITIVE_INFINITY
}
