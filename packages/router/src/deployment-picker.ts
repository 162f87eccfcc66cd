import { RerankError } from '@rerank-kit/protocol'
import { busyness, type Unavailability, unavailability } from './availability'
import type { DeploymentRuntime } from './deployment-runtime'
import type { DeploymentSnapshot, Strategy } from './deployment-snapshot'
import type { RouterStateStore, SharedDeploymentState } from './router-state'
import { membersForTags } from './tag-filter'

export interface PickerOptions {
  state: RouterStateStore
  strategy: Strategy
  random: () => number
  /** latency-based-routing's buffer. */
  latencyBuffer: number
  /** Filter by tags (LiteLLM's `enable_tag_filtering`); off, request tags are ignored. */
  enableTagFiltering: boolean
}

export interface PickRequest {
  /** The request's tags (`RerankCallOptions.tags`). */
  tags?: readonly string[] | undefined
  /** Deployments this request already tried: the others are preferred. */
  tried?: ReadonlySet<string>
  /** Deployments not to call again for this request (their failure would repeat). */
  exclude?: ReadonlySet<string>
}

export type PickResult =
  | { deployment: DeploymentRuntime; trial: boolean }
  /**
   * Nothing to pick: a 429 when every deployment is at its own limits, else a 503; `reasons` lists each, and
   * `backInMs` says when the first of them is available again, if any will be.
   */
  | { refusal: RerankError; reasons: string; backInMs?: number }

interface Assessment {
  open: { deployment: DeploymentRuntime; state: SharedDeploymentState }[]
  out: (Unavailability & { id: string })[]
}

/**
 * The one place that decides which deployment takes a call, and why each other one did not: tags, cooldowns,
 * trial and parallel slots, rpm and tpm, then the strategy. Each read of the shared state also updates what
 * readiness knows of the deployments.
 */
export class DeploymentPicker {
  private readonly turns = new Map<string, number>()

  constructor(private readonly options: PickerOptions) {}

  /**
   * Reads the group's shared state and sorts its members into open and out (with why). A cooldown seen makes
   * the deployment half-open: the first pick after the cooldown ends is its single recovery trial.
   */
  async assess(group: string, members: readonly DeploymentRuntime[], tags: PickRequest['tags'], now: number) {
    const { usable, why } = this.options.enableTagFiltering
      ? membersForTags(group, members, tags)
      : { usable: new Set(members), why: '' }
    const shared = await this.options.state.read(
      members.map((deployment) => deployment.stateKey),
      now,
    )
    const assessment: Assessment = { open: [], out: [] }
    for (const deployment of members) {
      const state = shared.get(deployment.stateKey) ?? { rpmUsed: 0, tpmUsed: 0 }
      deployment.see(state, now)
      if (state.coolingUntil !== undefined) deployment.halfOpen = true
      if (!usable.has(deployment)) {
        assessment.out.push({ id: deployment.id, reason: why, until: Number.POSITIVE_INFINITY, kind: 'tags' })
        continue
      }
      const out = unavailability(deployment, state, now)
      if (out) assessment.out.push({ id: deployment.id, ...out })
      else assessment.open.push({ deployment, state })
    }
    return assessment
  }

  /**
   * The strategy's pick among the open deployments, untried ones first. The pick holds a slot of the
   * deployment's max_parallel_requests (and its half-open trial, if it is one): the caller releases them.
   */
  async pick(
    group: string,
    members: readonly DeploymentRuntime[],
    request: PickRequest,
    now: number,
  ): Promise<PickResult> {
    const { open, out } = await this.assess(group, members, request.tags, now)
    const usable = open.filter(({ deployment }) => !request.exclude?.has(deployment.id))
    const fresh = usable.filter(({ deployment }) => !request.tried?.has(deployment.id))
    const pool = fresh.length > 0 ? fresh : usable
    const eligible = pool.map(({ deployment, state }) => snapshotOf(deployment, state))
    while (eligible.length > 0) {
      const turn = this.turns.get(group) ?? 0
      this.turns.set(group, turn + 1)
      const chosen = this.options.strategy(eligible, {
        random: this.options.random,
        turn,
        latencyBuffer: this.options.latencyBuffer,
      })
      if (!chosen) break
      const deployment = pool.find((candidate) => candidate.deployment.id === chosen.id)!.deployment
      eligible.splice(eligible.indexOf(chosen), 1)
      // This process's slots are checked again and taken before the next await: concurrent picks that read the
      // state together would otherwise all take the one half-open trial or the last parallel slot.
      const busy = busyness(deployment, now)
      if (busy) {
        out.push({ id: deployment.id, ...busy })
        continue
      }
      const trial = deployment.halfOpen
      deployment.inFlight++
      if (trial) deployment.trialInFlight = true
      let taken = false
      try {
        // Counted atomically (in Redis, across instances): a race for the last unit of rpm picks again.
        taken = await this.options.state.takeRequest(deployment.stateKey, deployment.config.rpm, now)
      } finally {
        if (!taken) {
          deployment.inFlight--
          if (trial) deployment.trialInFlight = false
        }
      }
      if (taken) {
        deployment.sawUsage(1, 0, now)
        return { deployment, trial }
      }
      const nextMinute = (Math.floor(now / 60_000) + 1) * 60_000
      out.push({
        id: deployment.id,
        reason: `is at its rpm limit (${deployment.config.rpm}/min)`,
        until: nextMinute,
        kind: 'limit',
      })
    }
    return refusal(group, out, now)
  }
}

function snapshotOf(deployment: DeploymentRuntime, state: SharedDeploymentState): DeploymentSnapshot {
  return {
    id: deployment.id,
    weight: deployment.weight,
    priority: deployment.priority,
    rpm: deployment.config.rpm,
    tpm: deployment.config.tpm,
    inFlight: deployment.inFlight,
    rpmUsed: state.rpmUsed,
    tpmUsed: state.tpmUsed,
    latencyMs: deployment.meanLatencyMs,
    inputCostPerQuery: deployment.config.inputCostPerQuery,
  }
}

/**
 * LiteLLM's two answers when nothing can take the call: every candidate at its own rpm / tpm /
 * max_parallel_requests is rate limiting (429); any of them failing or cooling down makes the group unavailable
 * (503). Either way Retry-After says when the first of them comes back.
 */
function refusal(group: string, out: Assessment['out'], now: number): PickResult {
  const candidates = out.filter((entry) => entry.kind !== 'tags')
  const reasons = out.map((entry) => `${entry.id} ${entry.reason}`).join('; ')
  const limited = candidates.length > 0 && candidates.every((entry) => entry.kind === 'limit')
  const retryAt = Math.min(...candidates.map((entry) => entry.until))
  const backInMs = Number.isFinite(retryAt) ? Math.max(0, retryAt - now) : undefined
  const error = new RerankError(
    limited ? 'rate_limited' : 'overloaded',
    `No deployment of "${group}" is available: ${reasons || 'none left to try'}`,
    { retryAfterMs: backInMs ?? 1_000 },
  )
  return { refusal: error, reasons, ...(backInMs === undefined ? {} : { backInMs }) }
}
