import { errorFromHttpResponse, fromUnknown, RerankError, systemErrorCode } from '@rerank-kit/protocol'

export interface PostOptions {
  headers: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal | undefined
  fetch?: typeof globalThis.fetch | undefined
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
 * and the deadline.
 */
export async function postJson(url: string, body: unknown, options: PostOptions): Promise<unknown> {
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, options.timeoutMs)
  const callerSignal = options.signal
  const forwardAbort = () => controller.abort()
  if (callerSignal?.aborted) controller.abort()
  else callerSignal?.addEventListener('abort', forwardAbort, { once: true })
  try {
    const response = await (options.fetch ?? globalThis.fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(body),
      signal: controller.signal,
    })
    const text = await response.text()
    const json = parseJson(text)
    if (!response.ok) {
      throw errorFromHttpResponse(response.status, json ?? text, (name) => response.headers.get(name))
    }
    if (json === undefined) {
      throw new RerankError(
        'upstream_error',
        `Invalid response from the reranker: not JSON (${JSON.stringify(text.slice(0, quotedChars))})`,
        { upstreamStatus: response.status },
      )
    }
    return json
  } catch (thrown) {
    if (RerankError.isInstance(thrown)) throw thrown
    if (callerSignal?.aborted) {
      throw new RerankError('aborted', 'The request was aborted', { cause: thrown })
    }
    if (timedOut) {
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
      throw new RerankError('network_error', `Could not reach ${url}${code ? ` (${code})` : ''}`, {
        cause: thrown,
      })
    }
    throw error
  } finally {
    clearTimeout(timer)
    callerSignal?.removeEventListener('abort', forwardAbort)
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
