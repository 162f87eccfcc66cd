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

interface AssessedDeployment {
  deployment: DeploymentRuntime
  state: SharedDeploymentState
}

interface Assessment {
  open: AssessedDeployment[]
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
  async assess(
    group: string,
    members: readonly DeploymentRuntime[],
    tags: PickRequest['tags'],
    now: number,
  ): Promise<Assessment> {
    const ops = this.options.state.sync?.()
    if (ops !== undefined) return this.sort(group, members, tags, now, (key) => ops.readOne(key, now))
    // Tags are checked before the read, as they are on the synchronous path: a refusal costs no read.
    const filter = this.tagFilter(group, members, tags)
    const shared = await this.options.state.read(
      members.map((deployment) => deployment.stateKey),
      now,
    )
    return this.sortRead(members, filter, now, (key) => shared.get(key) ?? { rpmUsed: 0, tpmUsed: 0 })
  }

  /**
   * The strategy's pick among the open deployments, untried ones first. The pick holds a slot of the
   * deployment's max_parallel_requests (and its half-open trial, if it is one): the caller releases them.
   * On a store with synchronous operations (in memory) the pick is made without an await, and returned as is.
   */
  pick(
    group: string,
    members: readonly DeploymentRuntime[],
    request: PickRequest,
    now: number,
  ): PickResult | Promise<PickResult> {
    const ops = this.options.state.sync?.()
    if (ops === undefined) return this.pickAsync(group, members, request, now)
    const { open, out } = this.sort(group, members, request.tags, now, (key) => ops.readOne(key, now))
    const { pool, eligible } = candidatesOf(open, request)
    for (;;) {
      const next = this.choose(group, pool, eligible, out, now)
      if (next === undefined) return refusal(group, out, now)
      const { deployment, trial } = next
      if (ops.takeRequest(deployment.stateKey, deployment.config.rpm, now)) {
        deployment.sawUsage(1, 0, now)
        return next
      }
      release(deployment, trial)
      out.push(atRpmLimit(deployment, now))
    }
  }

  private async pickAsync(
    group: string,
    members: readonly DeploymentRuntime[],
    request: PickRequest,
    now: number,
  ): Promise<PickResult> {
    const { open, out } = await this.assess(group, members, request.tags, now)
    const { pool, eligible } = candidatesOf(open, request)
    for (;;) {
      const next = this.choose(group, pool, eligible, out, now)
      if (next === undefined) return refusal(group, out, now)
      const { deployment, trial } = next
      let taken = false
      try {
        // Counted atomically (in Redis, across instances): a race for the last unit of rpm picks again.
        taken = await this.options.state.takeRequest(deployment.stateKey, deployment.config.rpm, now)
      } finally {
        if (!taken) release(deployment, trial)
      }
      if (taken) {
        deployment.sawUsage(1, 0, now)
        return next
      }
      out.push(atRpmLimit(deployment, now))
    }
  }

  /**
   * The strategy's next choice among `eligible` (which it leaves without it, `pool` in step), with its slot and
   * trial taken; undefined when none is left. Deployments found busy go to `out`.
   */
  private choose(
    group: string,
    pool: AssessedDeployment[],
    eligible: DeploymentSnapshot[],
    out: Assessment['out'],
    now: number,
  ): { deployment: DeploymentRuntime; trial: boolean } | undefined {
    while (eligible.length > 0) {
      const turn = this.turns.get(group) ?? 0
      this.turns.set(group, turn + 1)
      const chosen = this.options.strategy(eligible, {
        random: this.options.random,
        turn,
        latencyBuffer: this.options.latencyBuffer,
      })
      if (!chosen) return undefined
      const index = eligible.indexOf(chosen)
      const deployment = pool[index]!.deployment
      eligible.splice(index, 1)
      pool.splice(index, 1)
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
      return { deployment, trial }
    }
    return undefined
  }

  /** Which members the request's tags allow; undefined when all are (tag filtering off: nothing is built). */
  private tagFilter(
    group: string,
    members: readonly DeploymentRuntime[],
    tags: PickRequest['tags'],
  ): { usable: ReadonlySet<DeploymentRuntime>; why: string } | undefined {
    return this.options.enableTagFiltering ? membersForTags(group, members, tags) : undefined
  }

  private sort(
    group: string,
    members: readonly DeploymentRuntime[],
    tags: PickRequest['tags'],
    now: number,
    stateOf: (key: string) => SharedDeploymentState,
  ): Assessment {
    return this.sortRead(members, this.tagFilter(group, members, tags), now, stateOf)
  }

  private sortRead(
    members: readonly DeploymentRuntime[],
    filter: { usable: ReadonlySet<DeploymentRuntime>; why: string } | undefined,
    now: number,
    stateOf: (key: string) => SharedDeploymentState,
  ): Assessment {
    const assessment: Assessment = { open: [], out: [] }
    for (const deployment of members) {
      const state = stateOf(deployment.stateKey)
      deployment.see(state, now)
      if (state.coolingUntil !== undefined) deployment.halfOpen = true
      if (filter !== undefined && !filter.usable.has(deployment)) {
        assessment.out.push({
          id: deployment.id,
          reason: filter.why,
          until: Number.POSITIVE_INFINITY,
          kind: 'tags',
        })
        continue
      }
      const out = unavailability(deployment, state, now)
      if (out) assessment.out.push({ id: deployment.id, ...out })
      else assessment.open.push({ deployment, state })
    }
    return assessment
  }
}

/**
 * The open deployments the request may still use (not excluded), untried ones first if any, in one pass, and
 * what the strategy sees of them. Both lists are the caller's own: the pick takes entries out of them.
 */
function candidatesOf(
  open: AssessedDeployment[],
  request: PickRequest,
): { pool: AssessedDeployment[]; eligible: DeploymentSnapshot[] } {
  const { exclude, tried } = request
  let pool = open
  if ((exclude !== undefined && exclude.size > 0) || (tried !== undefined && tried.size > 0)) {
    const usable: AssessedDeployment[] = []
    const fresh: AssessedDeployment[] = []
    for (const entry of open) {
      if (exclude?.has(entry.deployment.id)) continue
      usable.push(entry)
      if (!tried?.has(entry.deployment.id)) fresh.push(entry)
    }
    pool = fresh.length > 0 ? fresh : usable
  }
  const eligible: DeploymentSnapshot[] = []
  for (const { deployment, state } of pool) eligible.push(snapshotOf(deployment, state))
  return { pool, eligible }
}

/** Gives back the slot (and trial) a pick took, when the rpm could not be counted. */
function release(deployment: DeploymentRuntime, trial: boolean) {
  deployment.inFlight--
  if (trial) deployment.trialInFlight = false
}

function atRpmLimit(deployment: DeploymentRuntime, now: number): Assessment['out'][number] {
  const nextMinute = (Math.floor(now / 60_000) + 1) * 60_000
  return {
    id: deployment.id,
    reason: `is at its rpm limit (${deployment.config.rpm}/min)`,
    until: nextMinute,
    kind: 'limit',
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
