import { parseRetryAfter, RerankError } from '@rerank-kit/protocol'

/** Which file of which repo: every hub error names it. The token is never passed here, so no message has it. */
export interface HubFileRef {
  repo: string
  revision: string
  file: string
}

function describe(ref: HubFileRef): string {
  return `${ref.file} of "${ref.repo}" at revision "${ref.revision}"`
}

/** The hub says why in `x-error-code` (RepoNotFound, GatedRepo, ...); only a plain word is worth repeating. */
function hubReason(response: Response): string {
  const code = response.headers.get('x-error-code')
  return code && /^\w{1,40}$/.test(code) ? ` (hub: ${code})` : ''
}

/** Any non-2xx answer but 404 (which the caller decides about: optional files may be absent). */
export function hubStatusError(ref: HubFileRef, response: Response, hasToken: boolean): RerankError {
  const what = `The hub answered ${response.status} for ${describe(ref)}${hubReason(response)}`
  const upstreamStatus = response.status
  switch (response.status) {
    case 401: {
      // The hub answers 401 (not 404) for a repo that does not exist, so it cannot be told from a private one.
      const hint = hasToken
        ? 'the token was rejected: check that it is valid'
        : 'the repository is private or gated, or does not exist: pass a token (option `token` or HF_TOKEN)'
      return new RerankError('unauthorized', `${what}: ${hint}`, { upstreamStatus })
    }
    case 403: {
      const hint = hasToken
        ? "the token has no access: for a gated model, accept its terms on the model's page with the token's account"
        : "access is restricted: for a gated model, accept its terms on the model's page and pass a token (option `token` or HF_TOKEN)"
      return new RerankError('forbidden', `${what}: ${hint}`, { upstreamStatus })
    }
    case 429: {
      const retryAfterMs = parseRetryAfter((name) => response.headers.get(name))
      return new RerankError('rate_limited', what, {
        upstreamStatus,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      })
    }
    default:
      return new RerankError('upstream_error', what, { upstreamStatus })
  }
}

export function requiredFileNotFound(ref: HubFileRef): RerankError {
  return new RerankError('not_found', `File ${describe(ref)} not found on the hub (404)`, {
    upstreamStatus: 404,
  })
}

export function noOnnxFileFound(repo: string, revision: string, tried: readonly string[]): RerankError {
  return new RerankError(
    'not_found',
    `No ONNX file of "${repo}" at revision "${revision}" found on the hub (404): tried ${tried.join(', ')}`,
    { upstreamStatus: 404 },
  )
}

function causeCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/** fetch itself failed: DNS, refused, reset before an answer. */
export function connectionError(ref: HubFileRef, url: string, cause: unknown): RerankError {
  const code = causeCode(cause)
  return new RerankError(
    'upstream_error',
    `Could not reach the hub at ${new URL(url).origin} for ${describe(ref)}${code ? ` (${code})` : ''}`,
    { cause },
  )
}

/** The answer started but the body ended early: connection closed, reset, or fewer bytes than announced. */
export function interruptedError(
  ref: HubFileRef,
  loaded: number,
  total: number | undefined,
  cause?: unknown,
) {
  const of = total === undefined ? '' : ` of ${total}`
  return new RerankError(
    'upstream_error',
    `Download of ${describe(ref)} was interrupted after ${loaded}${of} bytes; nothing was kept, retry to download it again`,
    cause === undefined ? {} : { cause },
  )
}

/** The disk, not the hub: cache folder not writable, disk full. `internal` keeps the path out of responses. */
export function cacheWriteError(ref: HubFileRef, path: string, cause: unknown): RerankError {
  const code = causeCode(cause)
  return new RerankError(
    'internal',
    `Could not write ${describe(ref)} to ${path}${code ? ` (${code})` : ''}: check that the cache folder is writable and has space`,
    { cause },
  )
}

/** A signal's reason decides the code: AbortSignal.timeout() means a timeout, anything else an abort. */
export function abortedError(what: string, signal: AbortSignal | undefined): RerankError {
  const reason: unknown = signal?.reason
  if (RerankError.isInstance(reason)) return reason
  const timedOut = (reason as { name?: unknown } | undefined)?.name === 'TimeoutError'
  return timedOut
    ? new RerankError('timeout', `${what} timed out`, { cause: reason })
    : new RerankError('aborted', `${what} was aborted`, reason === undefined ? {} : { cause: reason })
}
