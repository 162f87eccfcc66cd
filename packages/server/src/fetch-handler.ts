import { RerankError } from '@rerank-kit/protocol'
import { defaultMaxBodyBytes, type RerankHandler } from './create-rerank-handler'
import type { PlainResponse } from './handler-types'

/** Reads a fetch body up to `maxBytes`, stopping at once past it. */
async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new RerankError(
      'payload_too_large',
      `Request body is ${declared} bytes, over the limit of ${maxBytes}`,
    )
  }
  if (!request.body) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw new RerankError('payload_too_large', `Request body is over the limit of ${maxBytes} bytes`)
    }
    chunks.push(value)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

const toResponse = (request: Request, plain: PlainResponse): Response => {
  const text = typeof plain.body === 'string' ? plain.body : JSON.stringify(plain.body)
  return new Response(request.method === 'HEAD' ? null : text, {
    status: plain.status,
    headers: plain.headers,
  })
}

/**
 * The handler as a fetch-API function (Request -> Response) for Hono, Bun, Deno, Next route handlers and
 * other fetch-based servers. The request's own signal carries the client's disconnect. A request its headers
 * are enough to refuse is answered without reading its body; the server, not this function, owns the
 * connection (and its `Expect: 100-continue`, connection count and client address).
 */
export function createFetchHandler(handler: RerankHandler, options: { maxBodyBytes?: number } = {}) {
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    const path = url.pathname + url.search
    const headers = Object.fromEntries(request.headers)
    const refused = handler.precheck({ method: request.method, path, headers })
    if (refused) return toResponse(request, refused)
    let body: Uint8Array | undefined
    let bodyError: unknown
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      try {
        body = await readLimited(request, maxBodyBytes)
      } catch (error) {
        bodyError = error
      }
    }
    const plain = await handler({
      method: request.method,
      path,
      headers,
      body,
      signal: request.signal,
      ...(bodyError === undefined ? {} : { bodyError }),
    })
    return toResponse(request, plain)
  }
}
