import type { IncomingMessage, ServerResponse } from 'node:http'
import { RerankError } from '@rerank-kit/protocol'
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

/** Node request -> plain request, with the client's disconnect as an AbortSignal. */
export async function toPlainRequest(
  request: IncomingMessage,
  response: ServerResponse,
  body: unknown,
): Promise<PlainRequest> {
  const controller = new AbortController()
  // 'close' on the response before it finished writing means the client went away.
  response.on('close', () => {
    if (!response.writableFinished) controller.abort()
  })
  return {
    method: request.method ?? 'GET',
    path: request.url ?? '/',
    headers: request.headers,
    body,
    signal: controller.signal,
  }
}

/** Plain response -> Node response. */
export function writePlainResponse(response: ServerResponse, plain: PlainResponse): void {
  if (response.headersSent || response.destroyed) return
  const text = typeof plain.body === 'string' ? plain.body : JSON.stringify(plain.body)
  response.writeHead(plain.status, { ...plain.headers, 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

/**
 * A node:http listener for the standalone server (and any app built on node:http). Bodies are read here
 * with the size limit; everything else is the handler's.
 */
export function createNodeListener(handler: PlainHandler, options: { maxBodyBytes?: number } = {}) {
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 2 ** 20
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let body: Uint8Array | undefined
    let bodyError: unknown
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      try {
        body = await readBody(request, maxBodyBytes)
      } catch (error) {
        bodyError = error
        // The rest of an oversized body is not read: the connection closes after the answer.
        response.once('finish', () => request.destroy())
      }
    }
    const plain = await toPlainRequest(request, response, body)
    writePlainResponse(response, await handler(bodyError === undefined ? plain : { ...plain, bodyError }))
  }
}
