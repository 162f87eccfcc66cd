import {
  backoffDelayMs,
  delay,
  documentText,
  fromUnknown,
  type Logger,
  LogThrottle,
  type RerankCallOptions,
  RerankError,
  type Reranker,
  type RerankRequest,
  type RerankResponse,
  silentLogger,
} from '@rerank-kit/protocol'
import { checkAnswer } from './answer-check'
import { DeploymentRuntime, type RouterDeployment } from './deployment-runtime'
import type { DeploymentSnapshot, StrategyName } from './deployment-snapshot'
import {
  asDeploymentFault,
  asUpstreamTimeout,
  countsAgainstDeployment,
  failureDetail,
  isAuthFailure,
  isCallersFault,
  isMisdirected,
  isWorthRetrying,
  withRetryAfter,
} from './failure-kinds'
import { HealthChecker, rerankHealthCheck } from './health-checks'
import { LocalFallbackStats } from './local-fallback-stats'
import { MemoryState } from './memory-state'
import type { RouterStateStore } from './router-state'
import { strategyByName } from './strategies'

export interface RouterOptions {
  deployments: RouterDeployment[]
  routingStrategy?: StrategyName
  /** Retries after the first attempt, each on a deployment not yet tried for this request (default 2). */
  numRetries?: number
  /** Backoff base between attempts; doubles each retry, with jitter (default 50 ms). */
  retryDelayMs?: number
  /** How long a failing deployment is left alone (default 5 s); a Retry-After from a 429 lengthens it. */
  cooldownTimeMs?: number
  /**
   * The longest cooldown a backend's Retry-After may ask for (default 300 s): a backend answering
   * `Retry-After: 86400` would otherwise take itself out for a day, for every instance sharing the state.
   */
  maxCooldownTimeMs?: number
  /** Failures in a minute before a cooldown (default 3); a failure rate above 50% also cools down. */
  allowedFails?: number
  /** Group -> groups to try, in order, once the group's retries are exhausted. */
  fallbacks?: Record<string, string[]>
  /** The in-process model, tried last when `fallbackToLocal` is set. */
  local?: Reranker
  fallbackToLocal?: boolean
  /** latency-based-routing: deployments within this fraction of the fastest share the load (default 0.1). */
  latencyBuffer?: number
  /**
   * Probe every deployment this often (each with its `healthCheck`, else a one-document rerank): a failed probe
   * cools the deployment down at once, a passing one ends its cooldown. Off when unset.
   */
  healthCheckIntervalMs?: number
  state?: RouterStateStore
  logger?: Logger
  /**
   * Identical warnings (a dead backend fails every attempt the same way) are logged once, then as one line
   * with a count every this many ms (default 10 s).
   */
  repeatedLogIntervalMs?: number
  /** Injectable for tests. */
  random?: () => number
  now?: () => number
}

/** Failure rate in a minute above which a deployment cools down even under `allowedFails`, given this many calls. */
const failureRateFloor = 5

const routerDefaults = { maxCooldownTimeMs: 300_000, repeatedLogIntervalMs: 10_000 } as const

/**
 * A Reranker that routes each call to one deployment of the group its `model` names, with LiteLLM's
 * semantics: strategies, retries that always re-pick an untried deployment, cooldowns with half-open recovery,
 * rpm/tpm/parallel limits, fallbacks to other groups and then to the local model.
 */
export class Router implements Reranker {
  private readonly groups = new Map<string, DeploymentRuntime[]>()
  private readonly turns = new Map<string, number>()
  private readonly state: RouterStateStore
  private readonly logger: Logger
  private readonly random: () => number
  private readonly now: () => number
  private readonly strategy
  private readonly healthChecker: HealthChecker | undefined
  private readonly throttle: LogThrottle
  private readonly localStats = new LocalFallbackStats()

  constructor(private readonly options: RouterOptions) {
    if (options.deployments.length === 0 && !options.local) {
      throw new RerankError('invalid_request', 'A router needs at least one deployment', {
        param: 'deployments',
      })
    }
    for (const deployment of options.deployments) {
      const members = this.groups.get(deployment.modelName) ?? []
      const id = deployment.id ?? `${deployment.modelName}#${members.length}`
      members.push(new DeploymentRuntime(id, deployment))
      this.groups.set(deployment.modelName, members)
    }
    const all = [...this.groups.values()].flat()
    const ids = all.map((deployment) => deployment.id)
    if (new Set(ids).size !== ids.length) {
      throw new RerankError('invalid_request', 'Deployment ids must be unique', { param: 'deployments' })
    }
    // Two deployments on one key would share counters and cooldowns: one failing would cool the other down.
    const stateKeys = all.map((deployment) => deployment.stateKey)
    if (new Set(stateKeys).size !== stateKeys.length) {
      throw new RerankError('invalid_request', 'Deployment state keys must be unique', {
        param: 'deployments',
      })
    }
    for (const [group, targets] of Object.entries(options.fallbacks ?? {})) {
      for (const target of [group, ...targets]) {
        if (!this.groups.has(target)) {
          throw new RerankError('invalid_request', `Fallback names an unknown group "${target}"`, {
            param: 'fallbacks',
          })
        }
      }
    }
    this.strategy = strategyByName(options.routingStrategy ?? 'simple-shuffle')
    this.state = options.state ?? new MemoryState()
    this.logger = options.logger ?? silentLogger
    this.throttle = new LogThrottle(
      this.logger,
      options.repeatedLogIntervalMs ?? routerDefaults.repeatedLogIntervalMs,
    )
    this.random = options.random ?? Math.random
    this.now = options.now ?? Date.now
    this.healthChecker = this.startHealthChecks()
  }

  /** The groups this router serves (what `/v1/models` lists). */
  get modelNames(): string[] {
    return [...this.groups.keys()]
  }

  async rerank(request: RerankRequest, options: RerankCallOptions = {}): Promise<RerankResponse> {
    const group = this.groupOf(request.model)
    // The group name is ours; each deployment sends its own upstream model.
    const { model: _group, ...forwarded } = request
    let lastError: RerankError | undefined
    for (const name of group === undefined ? [] : [group, ...(this.options.fallbacks?.[group] ?? [])]) {
      const failures: string[] = []
      try {
        // The caller is answered in our names: the group it asked for (not the one a fallback reached, nor the
        // backend's model), and no backend id (the server gives the answer its own request id).
        return ourAnswer(
          await this.tryGroup(name, forwarded, options.signal, failures),
          request.model ?? group!,
        )
      } catch (thrown) {
        lastError = fromUnknown(thrown)
        if (isCallersFault(lastError)) throw lastError
        // Which deployments failed and how, for the operator: the caller's error names none of them (a
        // client of the HTTP server should not learn the backends' names). A dead backend fails every
        // request alike: the identical lines are counted, not repeated.
        this.throttle.log('warn', 'router group failed', {
          group: name,
          code: lastError.code,
          tried: failures.length > 0 ? failures.join(', ') : 'none available',
        })
      }
    }
    if (this.options.local && (this.options.fallbackToLocal || group === undefined)) {
      const answer = await this.localStats.track(() => this.options.local!.rerank(forwarded, options))
      return group === undefined ? answer : ourAnswer(answer, request.model ?? group)
    }
    throw lastError ?? new RerankError('internal', 'No group to route to')
  }

  private groupOf(model: string | undefined): string | undefined {
    if (model !== undefined) {
      if (this.groups.has(model)) return model
      throw new RerankError(
        'model_not_found',
        `Model "${model}" is not served here; available: ${this.modelNames.join(', ')}`,
        { param: 'model' },
      )
    }
    if (this.groups.size === 1) return this.modelNames[0]
    if (this.groups.size === 0) return undefined
    throw new RerankError(
      'invalid_request',
      `This router serves several models; name one of: ${this.modelNames.join(', ')}`,
      { param: 'model' },
    )
  }

  /** Calls the group's deployments until one answers; `failures` collects `id: code` of each failure. */
  private async tryGroup(
    group: string,
    request: RerankRequest,
    signal: AbortSignal | undefined,
    failures: string[],
  ) {
    const members = this.groups.get(group)!
    const tried = new Set<string>()
    const attempts = Math.min(members.length, (this.options.numRetries ?? 2) + 1)
    let lastError: RerankError | undefined
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        await delay(
          backoffDelayMs(attempt - 1, { baseMs: this.options.retryDelayMs ?? 50 }, this.random),
          signal,
        )
      }
      // A caller who left is not sent anywhere (the signal may fire between two awaits, not only during one).
      if (signal?.aborted) throw abortedError()
      const { deployment, trial } = await this.pick(group, members, tried, lastError)
      tried.add(deployment.id)
      try {
        return await this.call(deployment, trial, request, signal)
      } catch (thrown) {
        lastError = fromUnknown(thrown)
        // The status, or the system error's code (ECONNREFUSED...): "network_error" alone hides the cause.
        const detail = failureDetail(lastError)
        failures.push(`${deployment.id}: ${lastError.code}${detail ? ` (${detail})` : ''}`)
        // The deployment's error would mislead a caller who aborted: it is an abort whatever failed meanwhile.
        if (signal?.aborted) throw abortedError()
        if (!isWorthRetrying(lastError)) throw lastError
        this.throttle.log('debug', 'retrying on another deployment', {
          group,
          failed: deployment.id,
          code: lastError.code,
        })
      }
    }
    throw lastError!
  }

  /**
   * The strategy's pick among deployments that are untried, not cooling down and under their limits. The pick
   * holds a slot of the deployment's max_parallel_requests (and its half-open trial, if it is one): `call`
   * releases them.
   */
  private async pick(
    group: string,
    members: DeploymentRuntime[],
    tried: ReadonlySet<string>,
    lastError: RerankError | undefined,
  ): Promise<{ deployment: DeploymentRuntime; trial: boolean }> {
    const now = this.now()
    const untried = members.filter((deployment) => !tried.has(deployment.id))
    if (untried.length === 0 && lastError) throw lastError
    const shared = await this.state.read(
      untried.map((deployment) => deployment.stateKey),
      now,
    )
    const reasons: string[] = []
    let retryAt = Number.POSITIVE_INFINITY
    const unavailable = (deployment: DeploymentRuntime, reason: string, until: number) => {
      reasons.push(`${deployment.id} ${reason}`)
      retryAt = Math.min(retryAt, until)
    }
    const nextMinute = (Math.floor(now / 60_000) + 1) * 60_000
    const eligible: DeploymentSnapshot[] = []
    for (const deployment of untried) {
      const { rpm, tpm } = deployment.config
      const state = shared.get(deployment.stateKey) ?? { rpmUsed: 0, tpmUsed: 0 }
      const busy = busyReason(deployment)
      if (state.coolingUntil !== undefined) {
        deployment.halfOpen = true
        unavailable(
          deployment,
          `is cooling down until ${new Date(state.coolingUntil).toISOString()}`,
          state.coolingUntil,
        )
      } else if (busy) {
        unavailable(deployment, busy, now + 1_000)
      } else if (rpm !== undefined && state.rpmUsed >= rpm) {
        unavailable(deployment, `is at its rpm limit (${rpm}/min)`, nextMinute)
      } else if (tpm !== undefined && state.tpmUsed >= tpm) {
        unavailable(deployment, `is at its tpm limit (${tpm}/min)`, nextMinute)
      } else {
        eligible.push({
          id: deployment.id,
          weight: deployment.weight,
          priority: deployment.priority,
          rpm,
          tpm,
          inFlight: deployment.inFlight,
          rpmUsed: state.rpmUsed,
          tpmUsed: state.tpmUsed,
          latencyMs: deployment.meanLatencyMs,
        })
      }
    }
    while (eligible.length > 0) {
      const turn = this.turns.get(group) ?? 0
      this.turns.set(group, turn + 1)
      const chosen = this.strategy(eligible, {
        random: this.random,
        turn,
        latencyBuffer: this.options.latencyBuffer ?? 0.1,
      })
      if (!chosen) break
      const deployment = untried.find((candidate) => candidate.id === chosen.id)!
      eligible.splice(eligible.indexOf(chosen), 1)
      // This process's slots are checked again and taken before the next await: concurrent picks that read the
      // state together would otherwise all take the one half-open trial or the last parallel slot.
      const busy = busyReason(deployment)
      if (busy) {
        unavailable(deployment, busy, now + 1_000)
        continue
      }
      const trial = deployment.halfOpen
      deployment.inFlight++
      if (trial) deployment.trialInFlight = true
      let taken = false
      try {
        // Counted atomically (in Redis, across instances): a race for the last unit of rpm picks again.
        taken = await this.state.takeRequest(deployment.stateKey, deployment.config.rpm, now)
      } finally {
        if (!taken) {
          deployment.inFlight--
          if (trial) deployment.trialInFlight = false
        }
      }
      if (taken) return { deployment, trial }
      unavailable(deployment, `is at its rpm limit (${deployment.config.rpm}/min)`, nextMinute)
    }
    if (lastError) throw lastError
    throw new RerankError('overloaded', `No deployment of "${group}" is available: ${reasons.join('; ')}`, {
      retryAfterMs: Number.isFinite(retryAt) ? Math.max(0, retryAt - now) : 1_000,
    })
  }

  /** One call on a deployment `pick` chose; releases the slot (and trial) the pick took. */
  private async call(
    deployment: DeploymentRuntime,
    trial: boolean,
    request: RerankRequest,
    signal: AbortSignal | undefined,
  ) {
    deployment.requests++
    const started = performance.now()
    try {
      const response = await deployment.config.reranker.rerank(request, signal ? { signal } : {})
      // A 200 is not yet a success: too few, repeated or invented results fail the attempt like a 502.
      checkAnswer(response, request, deployment.id)
      const now = this.now()
      deployment.successes++
      deployment.recordLatency(performance.now() - started)
      deployment.halfOpen = false
      await this.bookkeeping(deployment, () =>
        Promise.all([
          this.state.addTokens(
            deployment.stateKey,
            response.usage?.totalTokens ?? estimateTokens(request),
            now,
          ),
          this.state.recordOutcome(deployment.stateKey, false, now),
          trial ? this.state.recover(deployment.stateKey, now) : undefined,
        ]),
      )
      return response
    } catch (thrown) {
      const raw = fromUnknown(thrown)
      // A redirect, 401, 403 or 404 says this deployment is misconfigured: the caller gets a 502 naming it,
      // never the backend's status and text (which can echo its key or URL), and another deployment is tried.
      const error = isMisdirected(raw)
        ? asDeploymentFault(raw, deployment.id)
        : this.capRetryAfter(asUpstreamTimeout(raw), deployment.id)
      // A caller's abort says nothing about the deployment: it is neither a failure nor counted as one.
      if (error.code === 'aborted') deployment.aborted++
      else deployment.failures[error.code] = (deployment.failures[error.code] ?? 0) + 1
      if (countsAgainstDeployment(error)) {
        await this.bookkeeping(deployment, () => this.failed(deployment, error, trial, isAuthFailure(raw)))
      }
      throw error
    } finally {
      deployment.inFlight--
      if (trial) deployment.trialInFlight = false
    }
  }

  /**
   * Shared-state writes after a call. A custom store that throws must not turn a backend's answer (or its
   * error) into a state error: the call's outcome stands, and the store's failure is logged.
   */
  private async bookkeeping(deployment: DeploymentRuntime, write: () => Promise<unknown>) {
    try {
      await write()
    } catch (thrown) {
      this.logger.warn('router state not updated', {
        deployment: deployment.id,
        code: fromUnknown(thrown).code,
      })
    }
  }

  private async failed(deployment: DeploymentRuntime, error: RerankError, trial: boolean, auth: boolean) {
    const now = this.now()
    const cooldown = this.options.cooldownTimeMs ?? 5_000
    const minute = await this.state.recordOutcome(deployment.stateKey, true, now)
    const rateLimited = (error.upstreamStatus ?? error.status) === 429
    const overRate = minute.requests >= failureRateFloor && minute.failures / minute.requests > 0.5
    if (trial || rateLimited || auth || minute.failures >= (this.options.allowedFails ?? 3) || overRate) {
      // A server that said when to come back is believed, if that is later than our own cooldown (its
      // Retry-After was capped at maxCooldownTimeMs by capRetryAfter).
      const until = now + Math.max(cooldown, error.retryAfterMs ?? 0)
      await this.state.coolDown(deployment.stateKey, until)
      this.throttle.log(
        'warn',
        'deployment cooling down',
        {
          deployment: deployment.id,
          code: error.code,
          ...(error.upstreamStatus === undefined ? {} : { status: error.upstreamStatus }),
          until: new Date(until).toISOString(),
        },
        ['deployment', 'code', 'status'],
      )
    }
  }

  /**
   * A Retry-After beyond maxCooldownTimeMs cut down to it: the cooldown it sets and the Retry-After a caller
   * may be handed both stay bounded, and the log says the backend asked for more.
   */
  private capRetryAfter(error: RerankError, deploymentId: string): RerankError {
    const max = this.options.maxCooldownTimeMs ?? routerDefaults.maxCooldownTimeMs
    if (error.retryAfterMs === undefined || error.retryAfterMs <= max) return error
    this.throttle.log(
      'warn',
      'backend Retry-After capped',
      { deployment: deploymentId, code: error.code, retryAfterMs: error.retryAfterMs, cappedToMs: max },
      ['deployment', 'code', 'cappedToMs'],
    )
    return withRetryAfter(error, max)
  }

  private startHealthChecks(): HealthChecker | undefined {
    const intervalMs = this.options.healthCheckIntervalMs
    if (intervalMs === undefined) return undefined
    const byId = new Map([...this.groups.values()].flat().map((deployment) => [deployment.id, deployment]))
    const targets = [...byId.values()].map((deployment) => ({
      id: deployment.id,
      check: deployment.config.healthCheck ?? rerankHealthCheck(deployment.config.reranker),
    }))
    const checker = new HealthChecker(targets, {
      intervalMs,
      logger: this.logger,
      onResult: (target, error) => this.healthChecked(byId.get(target.id)!, error),
    })
    checker.start()
    return checker
  }

  /** Runs one round of health checks now (they also run every `healthCheckIntervalMs`). */
  async checkHealth(): Promise<void> {
    await this.healthChecker?.checkAll()
  }

  private async healthChecked(deployment: DeploymentRuntime, error: RerankError | undefined) {
    const now = this.now()
    deployment.health = { healthy: !error, checkedAt: now, ...(error ? { code: error.code } : {}) }
    if (error) {
      // Cooled down for at least one interval: the next probe, not live traffic, finds out whether it is back.
      const until =
        now + Math.max(this.options.cooldownTimeMs ?? 5_000, this.options.healthCheckIntervalMs ?? 0)
      deployment.halfOpen = true
      await this.state.coolDown(deployment.stateKey, until)
      this.throttle.log(
        'warn',
        'health check failed; deployment cooling down',
        { deployment: deployment.id, code: error.code, until: new Date(until).toISOString() },
        ['deployment', 'code'],
      )
      return
    }
    const shared = (await this.state.read([deployment.stateKey], now)).get(deployment.stateKey)
    if (shared?.coolingUntil !== undefined) {
      // A passing probe is as good as a half-open trial, and costs no user request.
      await this.state.recover(deployment.stateKey, now)
      deployment.halfOpen = false
      this.logger.info('health check passed; deployment back in rotation', { deployment: deployment.id })
    }
  }

  /** Per deployment: counters, latency, cooldown and usage. Ids and group names only: never a key or URL. */
  async stats() {
    const now = this.now()
    const all = [...this.groups.values()].flat()
    const shared = await this.state.read(
      all.map((deployment) => deployment.stateKey),
      now,
    )
    return {
      strategy: this.options.routingStrategy ?? 'simple-shuffle',
      ...this.state.status(),
      // The in-process model when the router falls back to it: requests it served and how they ended.
      ...(this.options.local
        ? { localFallback: { enabled: this.options.fallbackToLocal === true, ...this.localStats.snapshot() } }
        : {}),
      deployments: all.map((deployment) => {
        const state = shared.get(deployment.stateKey)
        return {
          id: deployment.id,
          group: deployment.config.modelName,
          requests: deployment.requests,
          successes: deployment.successes,
          failures: { ...deployment.failures },
          aborted: deployment.aborted,
          inFlight: deployment.inFlight,
          latencyP50Ms: deployment.latencyPercentile(50),
          latencyP95Ms: deployment.latencyPercentile(95),
          coolingUntil:
            state?.coolingUntil === undefined ? undefined : new Date(state.coolingUntil).toISOString(),
          rpmUsed: state?.rpmUsed ?? 0,
          tpmUsed: state?.tpmUsed ?? 0,
          rpm: deployment.config.rpm,
          tpm: deployment.config.tpm,
          health:
            deployment.health === undefined
              ? undefined
              : { ...deployment.health, checkedAt: new Date(deployment.health.checkedAt).toISOString() },
        }
      }),
    }
  }

  /** Stops the health checks (a round in progress finishes), then closes the state store (Redis). */
  async close(): Promise<void> {
    await this.healthChecker?.stop()
    this.throttle.flush()
    await this.state.close?.()
  }
}

/** When a backend reports no usage: about 4 characters a token, the query counted once per document. */
function estimateTokens(request: RerankRequest): number {
  const documentChars = request.documents.reduce<number>(
    (sum, document) => sum + documentText(document, request.rankFields).length,
    0,
  )
  return Math.ceil((documentChars + request.query.length * request.documents.length) / 4)
}

/** Why this process cannot send the deployment another call right now (its trial or parallel slots), if so. */
function busyReason(deployment: DeploymentRuntime): string | undefined {
  if (deployment.halfOpen && deployment.trialInFlight) return 'is on a recovery trial'
  const { maxParallelRequests } = deployment.config
  if (maxParallelRequests !== undefined && deployment.inFlight >= maxParallelRequests) {
    return `is at max_parallel_requests (${maxParallelRequests})`
  }
  return undefined
}

const abortedError = () => new RerankError('aborted', 'The request was aborted')

/** A deployment's answer named as the caller knows it: the group's name, without the backend's own id. */
function ourAnswer(response: RerankResponse, model: string): RerankResponse {
  const { id: _backendId, model: _backendModel, ...answer } = response
  return { ...answer, model }
}
