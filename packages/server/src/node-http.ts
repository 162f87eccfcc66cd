import type { IncomingMessage, ServerResponse } from 'node:http'
import { RerankError } from '@rerank-kit/protocol'
import { defaultMaxBodyBytes } from './create-rerank-handler'
import type { PlainRequest, PlainResponse } from './handler-types'

export type PlainHandler = (request: PlainRequest) => Promise<PlainResponse>

/**
 * Reads a Node request body up to `maxBytes`. Past the limit it stops reading at once (413) instead of
 * buffering whatever a client sends.
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(
      new RerankError(
        'payload_too_large',
        `Request body is ${declared} bytes, over the limit of ${maxBytes}`,
      ),
    )
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        request.removeAllListeners('data')
        request.pause()
        reject(new RerankError('payload_too_large', `Request body is over the limit of ${maxBytes} bytes`))
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

/** What a Node request carries besides the framework-neutral fields. */
export interface PlainRequestExtras {
  /** The path relative to a mount point, when the framework strips it (Fastify's register prefix). */
  path?: string
  bodyError?: unknown
  logger?: PlainRequest['logger']
}

/**
 * A Node request as a plain request, with the client's disconnect as an AbortSignal. The signal is made on
 * first use: an AbortController and a 'close' listener cost more than the rest of this translation, and
 * answers that never wait (errors, a cache, a stub) never read it. A class, not an object literal with a
 * getter and closures: it is made for every request.
 */
class NodePlainRequest implements PlainRequest {
  readonly method: string
  readonly path: string
  readonly headers: PlainRequest['headers']
  readonly body: unknown
  readonly bodyError: unknown
  readonly logger: PlainRequest['logger']
  #controller: AbortController | undefined
  // Released once the answer is ready (`done`): under load, a finished request's plain object lingers in
  // promise chains until the engine collects them, and must not keep the response and socket graph with it.
  // Measured with a strong reference: ~9 KB per request promoted to the old generation, costing more CPU in
  // garbage collection than the rest of the route.
  #live: ServerResponse | undefined

  constructor(request: IncomingMessage, response: ServerResponse, body: unknown, extras: PlainRequestExtras) {
    this.method = request.method ?? 'GET'
    this.path = extras.path ?? request.url ?? '/'
    this.headers = request.headers
    this.body = body
    this.bodyError = extras.bodyError
    this.logger = extras.logger
    this.#live = response
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const made = new AbortController()
      this.#controller = made
      const watched = this.#live
      // 'close' on the response before it finished writing means the client went away.
      const onClose = () => {
        if (!watched?.writableFinished) made.abort()
      }
      if (!watched || watched.destroyed) onClose()
      else watched.once('close', onClose)
    }
    return this.#controller.signal
  }

  done(): void {
    this.#live = undefined
  }
}

/** Node request -> plain request (see NodePlainRequest). */
export function toPlainRequest(
  request: IncomingMessage,
  response: ServerResponse,
  body: unknown,
  extras: PlainRequestExtras = {},
): PlainRequest {
  return new NodePlainRequest(request, response, body, extras)
}

/**
 * The whole Node translation, once for node:http, Express and Koa: a body the framework already parsed is
 * used as is, else the body is read with the limit; a read failure travels as `bodyError` (answered in the
 * route family's format) and the connection closes after the answer instead of draining the rest.
 */
export async function readPlainRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: { parsedBody?: unknown; maxBodyBytes?: number } = {},
): Promise<PlainRequest> {
  let body = options.parsedBody
  if (body === undefined && request.method !== 'GET' && request.method !== 'HEAD') {
    try {
      body = await readBody(request, options.maxBodyBytes ?? defaultMaxBodyBytes)
    } catch (bodyError) {
      response.once('finish', () => request.destroy())
      return toPlainRequest(request, response, undefined, { bodyError })
    }
  }
  return toPlainRequest(request, response, body)
}

/** Plain response -> Node response. */
export function writePlainResponse(response: ServerResponse, plain: PlainResponse): void {
  if (response.headersSent || response.destroyed) return
  const text = typeof plain.body === 'string' ? plain.body : JSON.stringify(plain.body)
  response.writeHead(plain.status, { ...plain.headers, 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

/** A node:http listener for the standalone server (and any app built on node:http). */
export function createNodeListener(handler: PlainHandler, options: { maxBodyBytes?: number } = {}) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    writePlainResponse(response, await handler(await readPlainRequest(request, response, options)))
  }
}
