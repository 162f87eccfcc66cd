import { fromUnknown, type Logger, RerankError, type Reranker } from '@rerank-kit/protocol'

/** Resolves when the deployment is healthy; rejects (with the reason) when it is not. */
export type HealthCheck = (signal: AbortSignal) => Promise<void>

/** The default probe: a one-document rerank through the deployment itself, so auth, model and format are checked. */
export function rerankHealthCheck(reranker: Reranker): HealthCheck {
  return async (signal) => {
    await reranker.rerank({ query: 'health check', documents: ['ok'] }, { signal })
  }
}

/**
 * GET `url` (a backend's own health path, e.g. TEI's or our server's `/health`); any 2xx is healthy. No API key
 * is sent: health paths are public on the servers that have them, and a probe has no reason to carry secrets.
 */
export function httpHealthCheck(url: string, fetchImpl: typeof fetch = fetch): HealthCheck {
  return async (signal) => {
    let response: Response
    try {
      response = await fetchImpl(url, { signal, headers: { accept: 'application/json' } })
    } catch (thrown) {
      // fetch's "fetch failed" TypeError is a failed connection whatever its cause: a certificate that does not
      // verify too (its code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, is no system code), as for a rerank call.
      if (signal.aborted || !(thrown instanceof TypeError)) throw thrown
      const code = (thrown.cause as { code?: unknown } | undefined)?.code
      throw new RerankError(
        'network_error',
        `Health check could not connect${typeof code === 'string' ? ` (${code})` : ''}`,
        { cause: thrown },
      )
    }
    // Drain the body so the keep-alive connection can be reused by the next probe.
    await response.arrayBuffer().catch(() => undefined)
    if (!response.ok) {
      throw new RerankError('upstream_error', `Health check answered HTTP ${response.status}`, {
        upstreamStatus: response.status,
      })
    }
  }
}

export interface HealthCheckTarget {
  readonly id: string
  readonly check: HealthCheck
}

export interface HealthCheckerOptions {
  intervalMs: number
  /** Per probe (default: the interval, at most 10 s): a probe that hangs is a failed probe. */
  timeoutMs?: number
  onResult: (target: HealthCheckTarget, error: RerankError | undefined) => Promise<void> | void
  logger: Logger
}

/**
 * Probes every target once at start and then every interval; a round never overlaps the previous one (a slow
 * backend must not pile probes up). The timer is unref'd: health checks never keep a process alive.
 */
export class HealthChecker {
  private timer: ReturnType<typeof setInterval> | undefined
  private round: Promise<void> | undefined
  private readonly stopped = new AbortController()

  constructor(
    private readonly targets: readonly HealthCheckTarget[],
    private readonly options: HealthCheckerOptions,
  ) {}

  start() {
    if (this.timer || this.stopped.signal.aborted) return
    void this.checkAll()
    this.timer = setInterval(() => void this.checkAll(), this.options.intervalMs)
    this.timer.unref()
  }

  /** One round over every target; joins the round in progress if there is one. */
  checkAll(): Promise<void> {
    this.round ??= Promise.all(this.targets.map((target) => this.checkOne(target))).then(() => {
      this.round = undefined
    })
    return this.round
  }

  async stop() {
    clearInterval(this.timer)
    this.stopped.abort()
    await this.round
  }

  private async checkOne(target: HealthCheckTarget) {
    if (this.stopped.signal.aborted) return
    const timeoutMs = this.options.timeoutMs ?? Math.min(this.options.intervalMs, 10_000)
    const signal = AbortSignal.any([this.stopped.signal, AbortSignal.timeout(timeoutMs)])
    let failure: RerankError | undefined
    try {
      await target.check(signal)
    } catch (thrown) {
      if (this.stopped.signal.aborted) return
      failure = fromUnknown(thrown)
    }
    try {
      await this.options.onResult(target, failure)
    } catch (thrown) {
      // A result that cannot be recorded (say, the state store is down) must not stop later rounds.
      this.options.logger.warn('health check result not recorded', {
        deployment: target.id,
        code: fromUnknown(thrown).code,
      })
    }
  }
}
