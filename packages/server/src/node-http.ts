import type { IncomingMessage, ServerResponse } from 'node:http'
import { RerankError } from '@rerank-kit/protocol'
import type { BodyBudget } from './body-budget'
import { defaultMaxBodyBytes, type RequestHead } from './create-rerank-handler'
import { type DisconnectWatch, watchDisconnect } from './disconnect-watch'
import type { PlainRequest, PlainResponse } from './handler-types'
import { closeAfterAnswer } from './lingering-close'

export type PlainHandler = ((request: PlainRequest) => Promise<PlainResponse>) & {
  /** The handler's header-only checks (createRerankHandler has them): run before a body is read. */
  precheck?(head: RequestHead, refusal?: unknown): PlainResponse | undefined
}

/** A share of a BodyBudget taken for one body, given back once by whoever ends the request. */
export interface BodyShare {
  budget: BodyBudget
  bytes: number
}

/**
 * Why a body stopped arriving: node:http's request timeout (it answered 408 itself and closed the socket),
 * else the client went away.
 */
function bodyReadFailure(request: IncomingMessage, error: unknown): RerankError {
  const socketError = request.socket?.errored as { code?: unknown } | null | undefined
  if (socketError?.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    // The client's fault: counted as 408 and logged as a warning, never as a server error.
    return new RerankError('request_timeout', 'The request body was not received in time', {
      cause: socketError,
    })
  }
  return new RerankError('aborted', 'The client closed the connection before sending its body', {
    cause: error,
  })
}

/**
 * Reads a Node request body up to `maxBytes`. Past the limit it stops reading at once (413) instead of
 * buffering whatever a client sends. With a `share`, the body's bytes are taken from its budget first (all the
 * declared length before reading, else chunk by chunk), and past the budget it stops the same way (503).
 * `ready` is called once those checks passed, just before reading (to send `100 Continue`).
 */
export function readBody(
  request: IncomingMessage,
  maxBytes: number,
  share?: BodyShare,
  ready?: () => void,
): Promise<Uint8Array> {
  const declared = Number(request.headers['content-length'])
  const known = request.headers['content-length'] !== undefined && Number.isFinite(declared)
  if (known && declared > maxBytes) {
    return Promise.reject(
      new RerankError(
        'payload_too_large',
        `Request body is ${declared} bytes, over the limit of ${maxBytes}`,
      ),
    )
  }
  if (share && known) {
    try {
      share.budget.take(declared)
      share.bytes += declared
    } catch (error) {
      return Promise.reject(error)
    }
  }
  ready?.()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = (error: RerankError) => {
      request.removeAllListeners('data')
      request.pause()
      reject(error)
    }
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        stop(new RerankError('payload_too_large', `Request body is over the limit of ${maxBytes} bytes`))
        return
      }
      if (share && !known) {
        try {
          share.budget.take(chunk.length)
          share.bytes += chunk.length
        } catch (error) {
          stop(error as RerankError)
          return
        }
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', (error) => reject(bodyReadFailure(request, error)))
  })
}

/** What a Node request carries besides the framework-neutral fields. */
export interface PlainRequestExtras {
  /** The path relative to a mount point, when the framework strips it (Fastify's register prefix). */
  path?: string
  /** What the framework stripped before `path` (see PlainRequest.mountPath). */
  mountPath?: string
  bodyError?: unknown
  logger?: PlainRequest['logger']
  /** The client's address when the framework knows better than the socket (Fastify's trusted proxies). */
  remoteAddress?: string
}

/**
 * A Node request as a plain request, with the client's disconnect as an AbortSignal. The signal is made on
 * first use: an AbortController and a 'close' listener cost more than the rest of this translation, and
 * answers that never wait (errors, a cache, a stub) never read it. A class, not an object literal with a
 * getter and closures: it is made for every request.
 */
class NodePlainRequest implements PlainRequest, DisconnectWatch {
  readonly method: string
  readonly path: string
  readonly mountPath: string | undefined
  readonly headers: PlainRequest['headers']
  readonly body: unknown
  readonly bodyError: unknown
  readonly logger: PlainRequest['logger']
  readonly remoteAddress: string | undefined
  #controller: AbortController | undefined
  // Released once the answer is ready (`done`): under load, a finished request's plain object lingers in
  // promise chains until the engine collects them, and must not keep the response and socket graph with it.
  // Measured with a strong reference: ~9 KB per request promoted to the old generation, costing more CPU in
  // garbage collection than the rest of the route.
  #live: ServerResponse | undefined

  constructor(request: IncomingMessage, response: ServerResponse, body: unknown, extras: PlainRequestExtras) {
    this.method = request.method ?? 'GET'
    this.path = extras.path ?? request.url ?? '/'
    this.mountPath = extras.mountPath
    this.headers = request.headers
    this.body = body
    this.bodyError = extras.bodyError
    this.logger = extras.logger
    this.remoteAddress = extras.remoteAddress ?? request.socket?.remoteAddress
    this.#live = response
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const made = new AbortController()
      this.#controller = made
      this[watchDisconnect](() => made.abort())
    }
    return this.#controller.signal
  }

  /** The disconnect without a signal: the handler's call signal, when it has a deadline, is the only one made. */
  [watchDisconnect](gone: () => void): void {
    const watched = this.#live
    // 'close' on the response before it finished writing means the client went away.
    const onClose = () => {
      if (!watched?.writableFinished) gone()
    }
    if (!watched || watched.destroyed) onClose()
    else watched.once('close', onClose)
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
 * What a refused client may still send before its connection is closed: the body limit, but never less than
 * the default one. A refused body is often over a small limit (a 413): dropping only that much would reset a
 * client still sending, which then never reads its answer.
 */
const lingerBytes = (maxBodyBytes = defaultMaxBodyBytes) => Math.max(maxBodyBytes, defaultMaxBodyBytes)

/**
 * The handler's header-only checks on a Node request, before a byte of its body is read. A refusal is
 * returned for the caller to send (its own way: Koa sets ctx.body), and the connection is closed after it
 * (see closeAfterAnswer: what the client sends meanwhile is dropped, at most `maxBodyBytes` of it, never held).
 * `refusal`: one decided by the server (its connection cap).
 */
export function precheckNodeRequest(
  handler: PlainHandler,
  request: IncomingMessage,
  response: ServerResponse,
  extras: Pick<PlainRequestExtras, 'path' | 'logger' | 'remoteAddress'> & {
    refusal?: unknown
    maxBodyBytes?: number
  } = {},
): PlainResponse | undefined {
  if (!handler.precheck) return undefined
  const refused = handler.precheck(
    {
      method: request.method ?? 'GET',
      path: extras.path ?? request.url ?? '/',
      headers: request.headers,
      remoteAddress: extras.remoteAddress ?? request.socket?.remoteAddress,
      ...(extras.logger && { logger: extras.logger }),
    },
    extras.refusal,
  )
  if (refused && !keepsConnection(request, extras.refusal)) {
    closeAfterAnswer(request, response, { maxBytes: lingerBytes(extras.maxBodyBytes) })
  }
  return refused
}

/** A declared body up to this size is dropped by node:http after a refusal, and the connection kept. */
const smallBodyBytes = 64 * 1024

/**
 * Whether a refused request's connection stays open: only for a small declared body (node:http drops it
 * after the answer, then reads the next request), and never past the server's connection cap or for a client
 * waiting for `100 Continue` (it may never send the body the connection would wait for). Closing after every
 * refusal made a client under overload open a new connection per refused request: refusals went from 33 ms to
 * 750 ms at p99, since node:http accepts one connection per turn of a busy event loop.
 */
function keepsConnection(request: IncomingMessage, serverRefusal: unknown): boolean {
  if (serverRefusal !== undefined || request.headers.expect !== undefined) return false
  if (request.headers['transfer-encoding'] !== undefined) return false
  const declared = Number(request.headers['content-length'] ?? 0)
  return Number.isFinite(declared) && declared <= smallBodyBytes
}

export interface ReadPlainRequestOptions {
  parsedBody?: unknown
  maxBodyBytes?: number
  /** The bytes of bodies the server may hold at once (see BodyBudget); none: no cap across requests. */
  bodyBudget?: BodyBudget
  /** The client sent `Expect: 100-continue`: send `100 Continue` once the body may be read, and only then. */
  expectsContinue?: boolean
  /** What the framework stripped from the URL (Express's `req.baseUrl`, see PlainRequest.mountPath). */
  mountPath?: string
}

/**
 * The whole Node translation, once for node:http, Express and Koa: a body the framework already parsed is
 * used as is, else the body is read with the limit (and from the budget); a read failure travels as
 * `bodyError` (answered in the route family's format) and the connection closes after the answer (the rest
 * dropped for a bounded while, see closeAfterAnswer).
 */
export async function readPlainRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: ReadPlainRequestOptions = {},
): Promise<PlainRequest> {
  let body = options.parsedBody
  if (body === undefined && request.method !== 'GET' && request.method !== 'HEAD') {
    const share: BodyShare | undefined = options.bodyBudget && { budget: options.bodyBudget, bytes: 0 }
    // Given back when the answer is sent or the connection dies, whichever comes first ('close' fires for both).
    if (share) response.once('close', () => share.budget.give(share.bytes))
    // Only once the body will be read (its share taken) may the client send it.
    const ready = options.expectsContinue ? () => response.writeContinue() : undefined
    const maxBytes = options.maxBodyBytes ?? defaultMaxBodyBytes
    try {
      body = await readBody(request, maxBytes, share, ready)
    } catch (bodyError) {
      closeAfterAnswer(request, response, { maxBytes: lingerBytes(maxBytes) })
      return toPlainRequest(request, response, undefined, { bodyError, mountPath: options.mountPath })
    }
  }
  return toPlainRequest(request, response, body, { mountPath: options.mountPath })
}

/** Plain response -> Node response. */
export function writePlainResponse(response: ServerResponse, plain: PlainResponse): void {
  if (response.headersSent || response.destroyed) return
  const text = typeof plain.body === 'string' ? plain.body : JSON.stringify(plain.body)
  // A flat list of names and values, which node:http writes as it is, rather than a copy of the headers object
  // with one more field: the handler adds an answer's headers one by one, and copying such an object made a new
  // hidden class on every answer (a visible cost of a load-balancer server's answer).
  const headers: string[] = []
  for (const name of Object.keys(plain.headers)) {
    if (name !== 'content-length') headers.push(name, plain.headers[name]!)
  }
  headers.push('content-length', String(Buffer.byteLength(text)))
  response.writeHead(plain.status, headers)
  response.end(text)
}

/**
 * One request through node:http: the handler's header-only checks, then (unless refused) the body, then the
 * handler. `refusal`: the server's own (its connection cap); `expectsContinue`: see ReadPlainRequestOptions.
 */
export async function serveNodeRequest(
  handler: PlainHandler,
  request: IncomingMessage,
  response: ServerResponse,
  options: Omit<ReadPlainRequestOptions, 'parsedBody'> & { refusal?: unknown } = {},
): Promise<void> {
  const refused = precheckNodeRequest(handler, request, response, {
    refusal: options.refusal,
    ...(options.maxBodyBytes !== undefined && { maxBodyBytes: options.maxBodyBytes }),
  })
  if (refused) return writePlainResponse(response, refused)
  writePlainResponse(response, await handler(await readPlainRequest(request, response, options)))
}

/** A node:http listener for any app built on node:http (the standalone server: see createRerankServer). */
export function createNodeListener(
  handler: PlainHandler,
  options: Pick<ReadPlainRequestOptions, 'maxBodyBytes' | 'bodyBudget'> = {},
) {
  return (request: IncomingMessage, response: ServerResponse): Promise<void> =>
    serveNodeRequest(handler, request, response, options)
}
