import {
  fromUnknown,
  type Logger,
  LogThrottle,
  type RerankCallOptions,
  RerankError,
  type Reranker,
  type RerankRequest,
  type RerankResponse,
  type RerankRouting,
  silentLogger,
} from '@rerank-kit/protocol'
import { AttemptLoop } from './attempt-loop'
import { callDeployment } from './deployment-call'
import { DeploymentPicker } from './deployment-picker'
import type { RouterDeployment } from './deployment-runtime'
import type { StrategyName } from './deployment-snapshot'
import { FailureAccounting } from './failure-accounting'
import type { AllowedFailsPolicy, RetryPolicy } from './failure-classes'
import { isCallersFault } from './failure-kinds'
import { HealthChecker, rerankHealthCheck } from './health-checks'
import { LocalFallbackStats } from './local-fallback-stats'
import { MemoryState } from './memory-state'
import { type Readiness, readinessOf } from './readiness'
import { type GroupRun, RouterAttemptsError } from './router-failure'
import { type GroupAlias, RouterGroups } from './router-groups'
import type { RouterStateStore } from './router-state'
import { routerStats } from './router-stats'
import { strategyByName } from './strategies'

export interface RouterOptions {
  deployments: RouterDeployment[]
  routingStrategy?: StrategyName
  /**
   * Retries after the first attempt (default 2). Each re-picks, deployments not yet tried first; once all have
   * been tried, a retry goes back to them (a group of one is retried too), after backoff and Retry-After.
   */
  numRetries?: number
  /** Retries per failure class, overriding numRetries for failures of that class (LiteLLM's `retry_policy`). */
  retryPolicy?: RetryPolicy
  /** Backoff base between attempts; doubles each retry, with jitter (default 50 ms). */
  retryDelayMs?: number
  /**
   * The longest a retry waits for a deployment's Retry-After (default 10 s). A longer Retry-After is not waited
   * for: the request fails at once, handing the caller that Retry-After.
   */
  maxRetryWaitMs?: number
  /** How long a failing deployment is left alone (default 5 s); a Retry-After from a 429 lengthens it. */
  cooldownTimeMs?: number
  /**
   * The longest cooldown a backend's Retry-After may ask for (default 300 s): a backend answering
   * `Retry-After: 86400` would otherwise take itself out for a day, for every instance sharing the state.
   */
  maxCooldownTimeMs?: number
  /**
   * Failures tolerated in a minute (default 3): the next one cools the deployment down, as LiteLLM counts. A
   * failure rate above 50% (from 5 calls) also cools down.
   */
  allowedFails?: number
  /** Allowed fails per failure class, overriding allowedFails (LiteLLM's `allowed_fails_policy`). */
  allowedFailsPolicy?: AllowedFailsPolicy
  /** Group -> groups to try, in order, once the group's retries are exhausted. */
  fallbacks?: Record<string, string[]>
  /** Groups tried, in order, for a group that has no entry in `fallbacks` (LiteLLM's `default_fallbacks`). */
  defaultFallbacks?: string[]
  /**
   * Group -> groups tried when a deployment refuses the request as too long (a backend's 413: LiteLLM's
   * context window error), instead of answering that refusal. Other groups may serve longer inputs.
   */
  contextWindowFallbacks?: Record<string, string[]>
  /**
   * Other names for groups (LiteLLM's `model_group_alias`): a request naming the alias is routed to the group
   * and answered under the alias; `modelNames` lists the aliases not hidden. An alias may not be a group's name.
   */
  groupAliases?: Record<string, GroupAlias>
  /**
   * Route by tags (LiteLLM's `enable_tag_filtering`): a request's `tags` (RerankCallOptions) pick the
   * deployments carrying one of them, else those tagged `default`; untagged requests go to those tagged
   * `default`, else to all. Tags that fit no deployment are refused (400). Off: tags are ignored.
   */
  enableTagFiltering?: boolean
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
  /**
   * How often `readiness()` has its view of the shared state refreshed while no request reads it (default 5 s;
   * 0: never). Instances sharing Redis learn so of cooldowns set elsewhere.
   */
  readinessRefreshMs?: number
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

const routerDefaults = {
  numRetries: 2,
  retryDelayMs: 50,
  maxRetryWaitMs: 10_000,
  cooldownTimeMs: 5_000,
  maxCooldownTimeMs: 300_000,
  allowedFails: 3,
  latencyBuffer: 0.1,
  readinessRefreshMs: 5_000,
  repeatedLogIntervalMs: 10_000,
} as const

/**
 * A Reranker that routes each call to one deployment of the group its `model` names, with LiteLLM's
 * semantics: strategies, retries, cooldowns with half-open recovery, rpm/tpm/parallel limits, tags, aliases,
 * fallbacks to other groups and then to the local model. It only composes: the pick (deployment-picker.ts), the
 * attempts (attempt-loop.ts), outcomes and cooldowns (failure-accounting.ts), stats and readiness.
 */
export class Router implements Reranker {
  private readonly groups: RouterGroups
  private readonly state: RouterStateStore
  private readonly logger: Logger
  private readonly now: () => number
  private readonly throttle: LogThrottle
  private readonly accounting: FailureAccounting
  private readonly attempts: AttemptLoop
  private readonly healthChecker: HealthChecker | undefined
  private readonly refreshTimer: NodeJS.Timeout | undefined
  private readonly localStats = new LocalFallbackStats()

  constructor(private readonly options: RouterOptions) {
    if (options.deployments.length === 0 && !options.local) {
      throw new RerankError('invalid_request', 'A router needs at least one deployment', {
        param: 'deployments',
      })
    }
    this.groups = new RouterGroups(options)
    const strategy = strategyByName(options.routingStrategy ?? 'simple-shuffle')
    this.state = options.state ?? new MemoryState()
    this.logger = options.logger ?? silentLogger
    this.throttle = new LogThrottle(
      this.logger,
      options.repeatedLogIntervalMs ?? routerDefaults.repeatedLogIntervalMs,
    )
    const random = options.random ?? Math.random
    this.now = options.now ?? Date.now
    const deps = { state: this.state, logger: this.logger, throttle: this.throttle, now: this.now }
    this.accounting = new FailureAccounting(deps, {
      cooldownTimeMs: options.cooldownTimeMs ?? routerDefaults.cooldownTimeMs,
      maxCooldownTimeMs: options.maxCooldownTimeMs ?? routerDefaults.maxCooldownTimeMs,
      allowedFails: options.allowedFails ?? routerDefaults.allowedFails,
      allowedFailsPolicy: options.allowedFailsPolicy,
      healthCheckIntervalMs: options.healthCheckIntervalMs,
    })
    const picker = new DeploymentPicker({
      state: this.state,
      strategy,
      random,
      latencyBuffer: options.latencyBuffer ?? routerDefaults.latencyBuffer,
      enableTagFiltering: options.enableTagFiltering === true,
    })
    this.attempts = new AttemptLoop(
      {
        picker,
        call: (deployment, trial, request, signal) =>
          callDeployment(this.accounting, deployment, trial, request, signal),
        throttle: this.throttle,
        random,
        now: this.now,
      },
      {
        numRetries: options.numRetries ?? routerDefaults.numRetries,
        retryPolicy: options.retryPolicy,
        retryDelayMs: options.retryDelayMs ?? routerDefaults.retryDelayMs,
        maxRetryWaitMs: options.maxRetryWaitMs ?? routerDefaults.maxRetryWaitMs,
      },
    )
    this.healthChecker = this.startHealthChecks()
    this.refreshTimer = this.startReadinessRefresh()
  }

  /** The groups this router serves, and their aliases that are not hidden (what `/v1/models` lists). */
  get modelNames(): string[] {
    return this.groups.modelNames
  }

  /** Whether a request naming `model` is routed here: a group or any alias, hidden ones included. */
  acceptsModel(model: string): boolean {
    return this.groups.accepts(model)
  }

  async rerank(request: RerankRequest, options: RerankCallOptions = {}): Promise<RerankResponse> {
    const group = this.groups.groupOf(request.model)
    // The group name is ours; each deployment sends its own upstream model.
    const { model: _group, ...forwarded } = request
    const call = { signal: options.signal, tags: options.tags }
    const runs: GroupRun[] = []
    let lastError: RerankError | undefined
    const chain = group === undefined ? [] : [group, ...this.fallbacksOf(group)]
    for (let index = 0; index < chain.length; index++) {
      const name = chain[index]!
      const members = this.groups.byName.get(name)!
      const run: GroupRun = { group: name, members: this.groups.idsOf(name), attempts: [], lines: [] }
      runs.push(run)
      try {
        // The caller is answered in our names: the name it asked for (group or alias, not the group a fallback
        // reached, nor the backend's model), and no backend id (the server gives the answer its own request id).
        const answer = await this.attempts.run(name, members, forwarded, call, run)
        return ourAnswer(answer, request.model ?? group!, routingOf(runs))
      } catch (thrown) {
        lastError = fromUnknown(thrown)
        if (lastError.code === 'aborted') throw lastError
        const longer = this.contextWindowFallbacksOf(name, lastError)
        if (longer.length > 0) {
          // Too long for this group: its context window fallbacks are tried next, instead of the rest.
          chain.splice(index + 1, chain.length, ...longer.filter((target) => !chain.includes(target)))
        } else if (isCallersFault(lastError)) throw lastError
        // Which deployments failed and how, for the operator. A dead backend fails every request alike: the
        // identical lines are counted, not repeated.
        this.throttle.log('warn', 'router group failed', {
          group: name,
          code: lastError.code,
          tried: run.lines.length > 0 ? run.lines.join(', ') : 'none available',
        })
      }
    }
    if (this.options.local && (this.options.fallbackToLocal || group === undefined)) {
      const answer = await this.localStats.track(() => this.options.local!.rerank(forwarded, options))
      return group === undefined ? answer : ourAnswer(answer, request.model ?? group, routingOf(runs))
    }
    if (lastError === undefined) throw new RerankError('internal', 'No group to route to')
    // A lone refusal (nothing was tried) says it all; otherwise the caller learns each attempt and its failure.
    const tried = runs.some((run) => run.attempts.length > 0)
    throw !tried && runs.length === 1 ? lastError : new RouterAttemptsError(lastError, runs)
  }

  private fallbacksOf(group: string): string[] {
    const own = this.options.fallbacks?.[group]
    if (own !== undefined) return own
    return (this.options.defaultFallbacks ?? []).filter((target) => target !== group)
  }

  /** A backend's 413 (not our own validation's) sends the request to the group's context window fallbacks. */
  private contextWindowFallbacksOf(group: string, error: RerankError): string[] {
    if (error.code !== 'payload_too_large' || error.upstreamStatus === undefined) return []
    return this.options.contextWindowFallbacks?.[group] ?? []
  }

  /**
   * Whether the router can take a request now, synchronously (for a `/ready` route): not when every deployment
   * of every group is cooling down or at its limits as last seen, and no local model is there to fall back to.
   */
  readiness(): Readiness {
    // The local model serves when the router falls back to it, and every request of a router without groups.
    const localServes =
      this.options.local !== undefined &&
      (this.options.fallbackToLocal === true || this.groups.byName.size === 0)
    return readinessOf(this.groups.byName, this.now(), localServes)
  }

  private startReadinessRefresh(): NodeJS.Timeout | undefined {
    const intervalMs = this.options.readinessRefreshMs ?? routerDefaults.readinessRefreshMs
    if (intervalMs <= 0) return undefined
    const timer = setInterval(() => void this.refreshLastSeen(), intervalMs)
    // Never what keeps a process alive: close() stops it, and an abandoned router must not leak a process.
    timer.unref()
    return timer
  }

  /** One read of every deployment's shared state, for readiness; a failed read keeps the last view. */
  private async refreshLastSeen() {
    const all = this.groups.all()
    const now = this.now()
    try {
      const shared = await this.state.read(
        all.map((deployment) => deployment.stateKey),
        now,
      )
      for (const deployment of all) {
        const current = shared.get(deployment.stateKey)
        if (current) deployment.see(current, now)
      }
    } catch (thrown) {
      this.logger.debug('router readiness not refreshed', { code: fromUnknown(thrown).code })
    }
  }

  private startHealthChecks(): HealthChecker | undefined {
    const intervalMs = this.options.healthCheckIntervalMs
    if (intervalMs === undefined) return undefined
    const byId = new Map(this.groups.all().map((deployment) => [deployment.id, deployment]))
    const targets = [...byId.values()].map((deployment) => ({
      id: deployment.id,
      check: deployment.config.healthCheck ?? rerankHealthCheck(deployment.config.reranker),
    }))
    const checker = new HealthChecker(targets, {
      intervalMs,
      logger: this.logger,
      onResult: (target, error) => this.accounting.healthChecked(byId.get(target.id)!, error),
    })
    checker.start()
    return checker
  }

  /** Runs one round of health checks now (they also run every `healthCheckIntervalMs`). */
  async checkHealth(): Promise<void> {
    await this.healthChecker?.checkAll()
  }

  /** Per deployment: counters, latency, cooldown and usage. Ids and group names only: never a key or URL. */
  async stats() {
    return routerStats({
      deployments: this.groups.all(),
      state: this.state,
      now: this.now(),
      strategy: this.options.routingStrategy ?? 'simple-shuffle',
      local: this.options.local
        ? { enabled: this.options.fallbackToLocal === true, stats: this.localStats }
        : undefined,
    })
  }

  /** Stops the health checks (a round in progress finishes) and the refresh, then closes the state store. */
  async close(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer)
    await this.healthChecker?.stop()
    this.throttle.flush()
    await this.state.close?.()
  }
}

/** A deployment's answer named as the caller knows it: the name it asked for, without the backend's own id. */
function ourAnswer(response: RerankResponse, model: string, routing: RerankRouting): RerankResponse {
  // One copy: the rest is a new object already (the model goes last, as before).
  const { id: _backendId, model: _backendModel, ...answer } = response
  ;(answer as { model?: string }).model = model
  ;(answer as { routing?: RerankRouting }).routing = routing
  return answer as RerankResponse
}

/** Who answered (a group's deployment, else the local fallback) and after how many attempts in all groups. */
function routingOf(runs: readonly GroupRun[]): RerankRouting {
  let failed = 0
  for (const run of runs) failed += run.attempts.length
  return { deployment: runs[runs.length - 1]?.answeredBy ?? 'local', attempts: failed + 1 }
}
