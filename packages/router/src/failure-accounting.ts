import { fromUnknown, type Logger, type LogThrottle, type RerankError } from '@rerank-kit/protocol'
import type { DeploymentRuntime } from './deployment-runtime'
import { type AllowedFailsPolicy, policyValue } from './failure-classes'
import {
  asDeploymentFault,
  asUpstreamTimeout,
  countsAgainstDeployment,
  isAuthFailure,
  isMisdirected,
  withRetryAfter,
} from './failure-kinds'
import type { RouterStateStore } from './router-state'

export interface AccountingOptions {
  /** How long a failing deployment is left alone. */
  cooldownTimeMs: number
  /** The longest cooldown (and Retry-After passed on) a backend's Retry-After may ask for. */
  maxCooldownTimeMs: number
  /** Failures in a minute before a cooldown. */
  allowedFails: number
  allowedFailsPolicy: AllowedFailsPolicy | undefined
  /** A failed probe cools down for at least one interval. */
  healthCheckIntervalMs: number | undefined
}

export interface AccountingDeps {
  state: RouterStateStore
  logger: Logger
  throttle: LogThrottle
  now: () => number
}

/** Failure rate in a minute above which a deployment cools down even under `allowedFails`, given this many calls. */
const failureRateFloor = 5

/**
 * What each call's outcome does to its deployment: counters, the shared minute, cooldowns (LiteLLM's rules,
 * see failure-kinds.ts) and recovery. Shared-state writes never change a call's outcome: a store that throws is
 * logged, and the answer (or the error) stands.
 */
export class FailureAccounting {
  constructor(
    private readonly deps: AccountingDeps,
    private readonly options: AccountingOptions,
  ) {}

  /**
   * A call that answered: counters, latency, tokens, and a passed half-open trial ends the cooldown. On a store
   * with synchronous operations (in memory) everything is done before it returns, and it returns undefined: the
   * answer does not wait a turn of the event loop for the bookkeeping. Otherwise a promise of the writes.
   */
  succeeded(
    deployment: DeploymentRuntime,
    trial: boolean,
    tokens: number,
    latencyMs: number,
  ): Promise<void> | undefined {
    const now = this.deps.now()
    deployment.successes++
    deployment.recordLatency(latencyMs)
    deployment.halfOpen = false
    deployment.sawUsage(0, tokens, now)
    if (trial) deployment.sawRecovery(now)
    const { state } = this.deps
    const ops = state.sync?.()
    if (ops !== undefined) {
      try {
        ops.addTokens(deployment.stateKey, tokens, now)
        ops.recordOutcome(deployment.stateKey, false, now)
        if (trial) ops.recover(deployment.stateKey, now)
      } catch (thrown) {
        this.stateNotUpdated(deployment, thrown)
      }
      return undefined
    }
    return this.bookkeeping(deployment, () =>
      Promise.all([
        state.addTokens(deployment.stateKey, tokens, now),
        state.recordOutcome(deployment.stateKey, false, now),
        trial ? state.recover(deployment.stateKey, now) : undefined,
      ]),
    )
  }

  /** A call that failed: counted, maybe cooling the deployment down; returns the error as the router passes it on. */
  async failed(deployment: DeploymentRuntime, thrown: unknown, trial: boolean): Promise<RerankError> {
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
      await this.bookkeeping(deployment, () =>
        this.coolDownIfDue(deployment, error, trial, isAuthFailure(raw)),
      )
    }
    return error
  }

  /**
   * A failure, counted in the minute; the deployment cools down on a failed trial, a 429 or auth failure, its
   * allowed fails, or more than half its calls failing. A class the allowed-fails policy names replaces all but
   * the trial rule: only its count decides (LiteLLM: fails this minute above the class's allowed fails).
   */
  private async coolDownIfDue(
    deployment: DeploymentRuntime,
    error: RerankError,
    trial: boolean,
    auth: boolean,
  ) {
    const now = this.deps.now()
    const minute = await this.deps.state.recordOutcome(deployment.stateKey, true, now)
    const allowedByPolicy = policyValue(this.options.allowedFailsPolicy, error)
    let due: boolean
    if (allowedByPolicy !== undefined) {
      due = trial || minute.failures > allowedByPolicy
    } else {
      const rateLimited = (error.upstreamStatus ?? error.status) === 429
      const overRate = minute.requests >= failureRateFloor && minute.failures / minute.requests > 0.5
      // As LiteLLM counts: `allowed_fails: N` tolerates N failures in the minute and cools down on the next.
      due = trial || rateLimited || auth || minute.failures > this.options.allowedFails || overRate
    }
    if (!due) return
    // A server that said when to come back is believed, if that is later than our own cooldown (its
    // Retry-After was capped at maxCooldownTimeMs by capRetryAfter).
    const until = now + Math.max(this.options.cooldownTimeMs, error.retryAfterMs ?? 0)
    deployment.sawCooldown(until, now)
    await this.deps.state.coolDown(deployment.stateKey, until)
    this.deps.throttle.log(
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

  /** A probe's result: a failure cools down for at least one interval, a pass ends a cooldown at once. */
  async healthChecked(deployment: DeploymentRuntime, error: RerankError | undefined) {
    const now = this.deps.now()
    deployment.health = { healthy: !error, checkedAt: now, ...(error ? { code: error.code } : {}) }
    const { state } = this.deps
    if (error) {
      // Cooled down for at least one interval: the next probe, not live traffic, finds out whether it is back.
      const until = now + Math.max(this.options.cooldownTimeMs, this.options.healthCheckIntervalMs ?? 0)
      deployment.halfOpen = true
      deployment.sawCooldown(until, now)
      await state.coolDown(deployment.stateKey, until)
      this.deps.throttle.log(
        'warn',
        'health check failed; deployment cooling down',
        { deployment: deployment.id, code: error.code, until: new Date(until).toISOString() },
        ['deployment', 'code'],
      )
      return
    }
    const shared = (await state.read([deployment.stateKey], now)).get(deployment.stateKey)
    if (shared) deployment.see(shared, now)
    if (shared?.coolingUntil !== undefined) {
      // A passing probe is as good as a half-open trial, and costs no user request.
      await state.recover(deployment.stateKey, now)
      deployment.halfOpen = false
      deployment.sawRecovery(now)
      this.deps.logger.info('health check passed; deployment back in rotation', { deployment: deployment.id })
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
      this.stateNotUpdated(deployment, thrown)
    }
  }

  private stateNotUpdated(deployment: DeploymentRuntime, thrown: unknown) {
    this.deps.logger.warn('router state not updated', {
      deployment: deployment.id,
      code: fromUnknown(thrown).code,
    })
  }

  /**
   * A Retry-After beyond maxCooldownTimeMs cut down to it: the cooldown it sets and the Retry-After a caller
   * may be handed both stay bounded, and the log says the backend asked for more.
   */
  private capRetryAfter(error: RerankError, deploymentId: string): RerankError {
    const max = this.options.maxCooldownTimeMs
    if (error.retryAfterMs === undefined || error.retryAfterMs <= max) return error
    this.deps.throttle.log(
      'warn',
      'backend Retry-After capped',
      { deployment: deploymentId, code: error.code, retryAfterMs: error.retryAfterMs, cappedToMs: max },
      ['deployment', 'code', 'cappedToMs'],
    )
    return withRetryAfter(error, max)
  }
}
