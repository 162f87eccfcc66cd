import {
  backoffDelayMs,
  delay,
  fromUnknown,
  inSpan,
  type LogThrottle,
  RerankError,
  type RerankRequest,
  type RerankResponse,
  SpanKind,
} from '@rerank-kit/protocol'
import type { DeploymentPicker } from './deployment-picker'
import type { DeploymentRuntime } from './deployment-runtime'
import { policyValue, type RetryPolicy } from './failure-classes'
import { isWorthRetrying, mayPassOnRetry, withRetryAfter } from './failure-kinds'
import { type GroupRun, recordAttempt } from './router-failure'

export interface RetrySettings {
  /** Retries after the first attempt. */
  numRetries: number
  /** Retries per failure class, instead of numRetries. */
  retryPolicy: RetryPolicy | undefined
  /** Backoff base between attempts; doubles each retry, with jitter. */
  retryDelayMs: number
  /** The longest a retry waits for a Retry-After; a longer one ends the request at once, with that Retry-After. */
  maxRetryWaitMs: number
}

export interface AttemptLoopDeps {
  picker: DeploymentPicker
  call: (
    deployment: DeploymentRuntime,
    trial: boolean,
    request: RerankRequest,
    signal: AbortSignal | undefined,
  ) => Promise<RerankResponse>
  throttle: LogThrottle
  random: () => number
  now: () => number
}

export interface GroupCall {
  signal?: AbortSignal | undefined
  tags?: readonly string[] | undefined
}

/**
 * A request's attempts inside one group, and its retry policy: each retry re-picks, untried deployments first;
 * once every deployment has been tried, a retry goes back to those tried (not to one cooling down, nor to one
 * whose failure would repeat), after the backoff and the Retry-After they asked for.
 */
export class AttemptLoop {
  constructor(
    private readonly deps: AttemptLoopDeps,
    private readonly settings: RetrySettings,
  ) {}

  /**
   * Calls the group's deployments until one answers; `run` collects each failed attempt.
   *
   * @throws RerankError the refusal when nothing could be picked at all (429 / 503 with Retry-After); else the
   *   last failure, once it may not be retried or nothing is left to retry it on (`run.unavailable` says why)
   */
  async run(
    group: string,
    members: readonly DeploymentRuntime[],
    request: RerankRequest,
    call: GroupCall,
    run: GroupRun,
  ): Promise<RerankResponse> {
    const { signal, tags } = call
    // Made at the first failure: most calls answer at once, and need none of them.
    let tried: Set<string> | undefined
    let exclude: Set<string> | undefined
    let lastFailureOf: Map<string, RerankError> | undefined
    let last: RerankError | undefined
    let retriesSoFar = 0
    for (;;) {
      if (last !== undefined) {
        if (!this.mayRetry(last, retriesSoFar)) throw last
        const wait = await this.waitBeforeRetry(
          group,
          members,
          last,
          { tags, tried: tried!, exclude: exclude!, lastFailureOf: lastFailureOf! },
          retriesSoFar,
        )
        if (wait.giveUp) throw wait.giveUp
        await delay(wait.ms, signal)
        retriesSoFar++
      }
      // A caller who left is not sent anywhere (the signal may fire between two awaits, not only during one).
      if (signal?.aborted) throw abortedError()
      let picked = this.deps.picker.pick(group, members, { tags, tried, exclude }, this.deps.now())
      // An in-memory store picks without an await.
      if (picked instanceof Promise) picked = await picked
      if ('refusal' in picked) {
        if (picked.reasons !== '') run.unavailable = picked.reasons
        if (last === undefined) throw picked.refusal
        // Out of deployments: the last failure stands, with when the first of them is back if it did not say.
        throw last.retryAfterMs === undefined && picked.backInMs !== undefined
          ? withRetryAfter(last, picked.backInMs)
          : last
      }
      const { deployment, trial } = picked
      tried?.add(deployment.id)
      try {
        // A span per attempt (OpenTelemetry; a no-op without an SDK): the deployment's id, never its URL.
        const attributes = {
          'rerank.group': group,
          'rerank.deployment.id': deployment.id,
          'rerank.attempt': retriesSoFar + 1,
        }
        const answer = await inSpan('rerank.attempt', SpanKind.INTERNAL, attributes, () =>
          this.deps.call(deployment, trial, request, signal),
        )
        run.answeredBy = deployment.id
        return answer
      } catch (thrown) {
        last = fromUnknown(thrown)
        if (tried === undefined) {
          tried = new Set([deployment.id])
          exclude = new Set()
          lastFailureOf = new Map()
        }
        recordAttempt(run, deployment.id, last)
        lastFailureOf!.set(deployment.id, last)
        if (!mayPassOnRetry(last)) exclude!.add(deployment.id)
        // The deployment's error would mislead a caller who aborted: it is an abort whatever failed meanwhile.
        if (signal?.aborted) throw abortedError()
        this.deps.throttle.log('debug', 'attempt failed', { group, failed: deployment.id, code: last.code })
      }
    }
  }

  /**
   * Whether a failure may be retried after `retriesSoFar` retries: its class's count in the retry policy if
   * the policy names it (LiteLLM: the policy takes precedence over its "should retry" check), else numRetries
   * for failures worth retrying. An abort never is.
   */
  private mayRetry(error: RerankError, retriesSoFar: number): boolean {
    if (error.code === 'aborted') return false
    const allowed = policyValue(this.settings.retryPolicy, error)
    if (allowed !== undefined) return retriesSoFar < allowed
    return isWorthRetrying(error) && retriesSoFar < this.settings.numRetries
  }

  /**
   * The backoff before a retry; when only deployments already tried are left, at least the Retry-After they
   * asked for. A Retry-After beyond maxRetryWaitMs is not waited for: the request gives up at once with it.
   */
  private async waitBeforeRetry(
    group: string,
    members: readonly DeploymentRuntime[],
    last: RerankError,
    request: {
      tags: readonly string[] | undefined
      tried: ReadonlySet<string>
      exclude: ReadonlySet<string>
      lastFailureOf: ReadonlyMap<string, RerankError>
    },
    retriesSoFar: number,
  ): Promise<{ ms: number; giveUp?: RerankError }> {
    const backoff = backoffDelayMs(retriesSoFar, { baseMs: this.settings.retryDelayMs }, this.deps.random)
    const { open } = await this.deps.picker.assess(group, members, request.tags, this.deps.now())
    const ids = open.map(({ deployment }) => deployment.id).filter((id) => !request.exclude.has(id))
    if (ids.some((id) => !request.tried.has(id))) return { ms: backoff }
    // Nothing to go back to: no wait, the pick says why and the request ends.
    if (ids.length === 0) return { ms: 0 }
    const retryAfter = Math.min(...ids.map((id) => request.lastFailureOf.get(id)?.retryAfterMs ?? 0))
    if (retryAfter > this.settings.maxRetryWaitMs) return { ms: 0, giveUp: withRetryAfter(last, retryAfter) }
    return { ms: Math.max(backoff, retryAfter) }
  }
}

const abortedError = () => new RerankError('aborted', 'The request was aborted')
