import { errorFromHttpResponse, fromUnknown, RerankError, systemErrorCode } from '@rerank-kit/protocol'
import ky from 'ky'

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
 */
export async function postJson(url: string, body: unknown, options: PostOptions): Promise<unknown> {
  const deadline = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline
  try {
    const response = await ky.post(url, {
      json: body,
      headers: options.headers,
      signal,
      // Retries and deadlines are ours: ky's would retry POSTs blindly and not cover the body.
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      ...(options.fetch ? { fetch: options.fetch } : {}),
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
    if (options.signal?.aborted) {
      throw new RerankError('aborted', 'The request was aborted', { cause: thrown })
    }
    if (deadline.aborted) {
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
