import { RerankError } from '@rerank-kit/protocol'
import { failureDetail } from './failure-kinds'

/** One failed call of a request, as the caller's error lists it: ids and codes, never an address or key. */
export interface RouterAttempt {
  /** The deployment's id (its operator's label, never its URL). */
  deployment: string
  group: string
  code: string
  /** The HTTP status the backend answered, when it answered one. */
  status?: number
  /** The failure's message with addresses and anything like a key taken out, at most 200 characters. */
  message?: string
}

/** What happened in one group of a request: its failed attempts, and why the last pick found nothing. */
export interface GroupRun {
  readonly group: string
  /** Members of the group: "All deployments failed" only when each of them was tried. */
  readonly members: readonly string[]
  readonly attempts: RouterAttempt[]
  /** `id: code (detail)` of each attempt, in order: the operator's log line and the caller's message share it. */
  readonly lines: string[]
  /** The deployments left and why each was out, when the run ended for want of one. */
  unavailable?: string
  /** The deployment that answered, when one did. */
  answeredBy?: string
}

export function attemptOf(deployment: string, group: string, error: RerankError): RouterAttempt {
  const message = redactVendorText(error.message)
  return {
    deployment,
    group,
    code: error.code,
    ...(error.upstreamStatus === undefined ? {} : { status: error.upstreamStatus }),
    ...(message === '' ? {} : { message }),
  }
}

/** Records a failed attempt in its group's run. */
export function recordAttempt(run: GroupRun, deployment: string, error: RerankError) {
  run.attempts.push(attemptOf(deployment, run.group, error))
  // The status, or the system error's code (ECONNREFUSED...): "network_error" alone hides the cause.
  const detail = failureDetail(error)
  run.lines.push(`${deployment}: ${error.code}${detail ? ` (${detail})` : ''}`)
}

// A backend's text can echo its URL or key (`invalid key sk-... for https://host/?api_key=...`): every URL,
// address and key-like word goes, whatever the backend, since the router does not know which ones are secret.
const urls = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi
const addresses = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g
const keyed =
  /\b(api[-_ ]?key|key|token|secret|password|bearer|authorization)([\s:=]+)(?:bearer\s+)?[^\s"',;]+/gi
const keyLike = /\b(?:sk|pk|rk)-[A-Za-z0-9_-]+|[A-Za-z0-9_+/=-]{24,}/g

export function redactVendorText(text: string): string {
  const redacted = text
    .replace(urls, '<url>')
    .replace(addresses, '<address>')
    .replace(keyed, '$1$2***')
    .replace(keyLike, '***')
  return redacted.length > 200 ? `${redacted.slice(0, 199)}…` : redacted
}

/**
 * The error a request that no deployment could answer ends with: the last failure's code, status and Retry-After
 * (a 504 stays a 504, a backend's 429 a 429), a message listing every deployment tried and how it failed, and
 * those attempts as data. Its message names only ids, codes, statuses and system error codes, so it is also
 * what a client is told.
 */
export class RouterAttemptsError extends RerankError {
  readonly attempts: readonly RouterAttempt[]

  constructor(last: RerankError, runs: readonly GroupRun[]) {
    const message = summary(runs)
    super(last.code, message, {
      retryable: last.retryable,
      ...(last.retryAfterMs === undefined ? {} : { retryAfterMs: last.retryAfterMs }),
      ...(last.upstreamStatus === undefined ? {} : { upstreamStatus: last.upstreamStatus }),
      ...(last.param === undefined ? {} : { param: last.param }),
      publicMessage: message,
      // Our own error body shows them (with each vendor's redacted text); other families show the message.
      publicDetails: { attempts: runs.flatMap((run) => run.attempts) },
      // What a server logs of a failure is its cause: the root of the last failure (a refused connection's
      // system error) says more than its summary.
      cause: last.cause ?? last,
    })
    this.attempts = runs.flatMap((run) => run.attempts)
  }
}

/** The attempts an error carries, if it is a router's (also from another copy of this package). */
export function attemptsOf(error: unknown): readonly RouterAttempt[] | undefined {
  if (!RerankError.isInstance(error)) return undefined
  const { attempts } = error as { attempts?: unknown }
  return Array.isArray(attempts) ? (attempts as RouterAttempt[]) : undefined
}

function summary(runs: readonly GroupRun[]): string {
  const runText = (run: GroupRun) => {
    const tried = run.lines.join(', ')
    if (run.attempts.length === 0) return `none available: ${run.unavailable ?? 'no deployment'}`
    return run.unavailable === undefined ? tried : `${tried}; none left to try: ${run.unavailable}`
  }
  if (runs.length === 1) {
    const [run] = runs as [GroupRun]
    const triedAll = run.members.every((id) => run.attempts.some((attempt) => attempt.deployment === id))
    const count = run.attempts.length
    const head = triedAll
      ? `All deployments of "${run.group}" failed`
      : `"${run.group}" failed ${count} attempt${count === 1 ? '' : 's'}`
    return `${head}: ${runText(run)}`
  }
  return `Every group failed: ${runs.map((run) => `"${run.group}" (${runText(run)})`).join(', then ')}`
}
