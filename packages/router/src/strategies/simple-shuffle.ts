import type { DeploymentSnapshot, PickContext } from '../deployment-snapshot'
import { pickUniform, pickWeighted } from './weighted-pick'

const DEFAULT_WEIGHT = 1

/**
 * LiteLLM's default strategy: weighted random by the first of `weight`, `rpm`, `tpm` that the group actually
 * uses, else uniform.
 *
 * - `weight` is used when any candidate has a weight other than the default 1 (every snapshot carries one,
 *   so "set" can only mean "changed").
 * - Otherwise `rpm` when at least one candidate has a finite rpm, otherwise `tpm` likewise. A candidate
 *   without the field counts as the mean of those that have it. LiteLLM counts it as 0 (never picked), but
 *   an unlimited deployment is not a useless one, and the mean keeps it in rotation without letting it
 *   dominate a group whose limits are large.
 */
export function simpleShuffle(
  candidates: readonly DeploymentSnapshot[],
  context: PickContext,
): DeploymentSnapshot | undefined {
  if (candidates.some((candidate) => candidate.weight !== DEFAULT_WEIGHT)) {
    return pickWeighted(candidates, (candidate) => candidate.weight, context.random)
  }
  for (const limitOf of [rpmOf, tpmOf]) {
    const weightOf = weightsFromLimit(candidates, limitOf)
    if (weightOf !== undefined) return pickWeighted(candidates, weightOf, context.random)
  }
  return pickUniform(candidates, context.random)
}

type LimitOf = (candidate: DeploymentSnapshot) => number | undefined

const rpmOf: LimitOf = (candidate) => candidate.rpm
const tpmOf: LimitOf = (candidate) => candidate.tpm

/** A weight function from a limit, filling gaps with the mean; undefined when no candidate sets the limit. */
function weightsFromLimit(
  candidates: readonly DeploymentSnapshot[],
  limitOf: LimitOf,
): ((candidate: DeploymentSnapshot) => number) | undefined {
  const limits = candidates.map(limitOf).filter(isFiniteNumber)
  if (limits.length === 0) return undefined
  const mean = limits.reduce((sum, limit) => sum + limit, 0) / limits.length
  return (candidate) => {
    const limit = limitOf(candidate)
    return isFiniteNumber(limit) ? limit : mean
  }
}

function isFiniteNumber(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value)
}
