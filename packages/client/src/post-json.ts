import { errorFromHttpResponse, fromUnknown, RerankError, systemErrorCode } from '@rerank-kit/protocol'
import { redactUrl } from './redact-url'
import { type BoundedRequestInit, boundedText, fetchHonoursDeadline } from './response-limit'

export interface PostOptions {
  headers: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal | undefined
  fetch?: typeof globalThis.fetch | undefined
  /** The most bytes the answer may have, or the bound for a request body of that many chars. */
  maxResponseBytes: number | ((requestChars: number) => number)
}

/** How much of a non-JSON answer an error message may quote. */
const quotedChars = 200

/**
 * One POST of a JSON body, answered with parsed JSON or a RerankError: an HTTP error in any family's body,
 * a timeout (`timeout`), the caller's abort (`aborted`), no connection (`network_error`), or a body that is
 * not JSON (`upstream_error`). The deadline covers the whole exchange, body included.
 *
 * The platform's fetch, called directly: a router sends every request through here, and a wrapper that builds
 * a Request, tees its body for retries we never make and combines signals with AbortSignal.any cost several
 * times the call itself (see benchmarks/src/router-bench.ts). One controller carries both the caller's abort
 * and the deadline; a fetch that enforces a deadline itself (nodeHttpFetch, see honoursDeadline) is given the
 * caller's signal and the deadline as they are, and no controller is made.
 */
export async function postJson(url: string, body: unknown, options: PostOptions): Promise<unknown> {
  const send = options.fetch ?? globalThis.fetch
  const callerSignal = options.signal
  const own = fetchHonoursDeadline(send) ? undefined : ownDeadline(options.timeoutMs, callerSignal)
  try {
    const json = JSON.stringify(body)
    const limit =
      typeof options.maxResponseBytes === 'number'
        ? options.maxResponseBytes
        : options.maxResponseBytes(json.length)
    const init: BoundedRequestInit = {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: json,
      signal: own ? own.controller.signal : callerSignal,
      maxResponseBytes: limit,
    }
    if (!own) init.timeoutMs = options.timeoutMs
    const response = await send(url, init)
    const text = await boundedText(response, limit)
    const parsed = parseJson(text)
    if (!response.ok) {
      throw errorFromHttpResponse(response.status, parsed ?? text, (name) => response.headers.get(name))
    }
    if (parsed === undefined) {
      throw new RerankError(
        'upstream_error',
        `Invalid response from the reranker: not JSON (${JSON.stringify(text.slice(0, quotedChars))})`,
        { upstreamStatus: response.status },
      )
    }
    return parsed
  } catch (thrown) {
    if (RerankError.isInstance(thrown)) throw thrown
    if (callerSignal?.aborted) {
      throw new RerankError('aborted', 'The request was aborted', { cause: thrown })
    }
    if (own ? own.timedOut : isDeadlineError(thrown)) {
      // No URL in the message: unlike network_error and upstream_error, a timeout's message is public, and a
      // server serving this client (or a router over it) would hand the upstream's address to its callers.
      throw new RerankError('timeout', `No answer from the reranker within ${options.timeoutMs} ms`, {
        cause: thrown,
      })
    }
    const error = fromUnknown(thrown)
    // fetch says "fetch failed" in Node and "Failed to fetch" in browsers, with or without a system code.
    if (error.code === 'network_error' || (error.code === 'internal' && thrown instanceof TypeError)) {
      const code = systemErrorCode(thrown)
      // The cause spelled out: a log printing it would otherwise say "TypeError: fetch failed" and no more.
      throw new RerankError('network_error', `Could not reach ${redactUrl(url)}${code ? ` (${code})` : ''}`, {
        cause: new Error(causeChain(thrown), { cause: thrown }),
      })
    }
    throw error
  } finally {
    own?.release()
  }
}

/** The deadline and the caller's abort in one controller, for a fetch that knows only signals. */
function ownDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined) {
  const controller = new AbortController()
  const deadline = {
    controller,
    timedOut: false,
    release() {
      clearTimeout(timer)
      callerSignal?.removeEventListener('abort', forwardAbort)
    },
  }
  const timer = setTimeout(() => {
    deadline.timedOut = true
    controller.abort()
  }, timeoutMs)
  const forwardAbort = () => controller.abort()
  if (callerSignal?.aborted) controller.abort()
  else callerSignal?.addEventListener('abort', forwardAbort, { once: true })
  return deadline
}

/** What a fetch that honours `init.timeoutMs` rejects with past the deadline. */
const isDeadlineError = (thrown: unknown) => thrown instanceof DOMException && thrown.name === 'TimeoutError'

/** `fetch failed: connect ECONNREFUSED 127.0.0.1:9`: the messages (or codes) down the cause chain. */
function causeChain(thrown: unknown): string {
  const parts: string[] = []
  for (let current = thrown, depth = 0; current && depth < 4; depth++) {
    const error = current as { message?: unknown; code?: unknown; cause?: unknown }
    const text = typeof error.message === 'string' && error.message !== '' ? error.message : error.code
    if (typeof text === 'string' && text !== '') parts.push(text)
    current = typeof current === 'object' ? error.cause : undefined
  }
  return parts.join(': ') || 'connection failed'
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
