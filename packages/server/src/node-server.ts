import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http'
import { BodyBudget } from './body-budget'
import { ConnectionLimit } from './connection-limit'
import { defaultMaxBodyBytes } from './create-rerank-handler'
import { type PlainHandler, serveNodeRequest } from './node-http'

/** The connection cap's default: far above what one process serves well, far below its file limit. */
export const defaultMaxConnections = 1024
/** The default bytes of request bodies held at once: six bodies at the default 10 MiB limit. */
export const defaultMaxBodyBytesInFlight = 64 * 2 ** 20

export interface RerankServerOptions extends ServerOptions {
  /** Per-request body limit (default: the handler's default, 10 MiB). */
  maxBodyBytes?: number
  /** Open connections past which a request gets 503 + Retry-After and its connection is closed. */
  maxConnections?: number
  /** Bytes of request bodies held at once, across requests; past it, 503 + Retry-After, the body unread. */
  maxBodyBytesInFlight?: number
}

/**
 * A node:http server around a handler, as the standalone server runs it. Every request is checked from its
 * headers (the server's connection cap, then the handler's key, route, method and declared size) before a
 * byte of its body is read; a refused one is answered and its connection closed, its body never read.
 * `Expect: 100-continue` is answered `100 Continue` only once the request passed those checks and its body's
 * share of the body budget is taken (node:http would send it before any of our code ran).
 */
export function createRerankServer(handler: PlainHandler, options: RerankServerOptions = {}): Server {
  const {
    maxBodyBytes,
    maxConnections = defaultMaxConnections,
    maxBodyBytesInFlight = defaultMaxBodyBytesInFlight,
    ...serverOptions
  } = options
  if (maxBodyBytesInFlight < (maxBodyBytes ?? defaultMaxBodyBytes)) {
    // A body the per-request limit allows must fit the budget, or it would be refused forever.
    throw new TypeError(
      `maxBodyBytesInFlight (${maxBodyBytesInFlight}) must be at least maxBodyBytes (${maxBodyBytes ?? defaultMaxBodyBytes})`,
    )
  }
  const connections = new ConnectionLimit(maxConnections)
  const bodyBudget = new BodyBudget(maxBodyBytesInFlight)
  const serve = (request: IncomingMessage, response: ServerResponse, expectsContinue: boolean) =>
    serveNodeRequest(handler, request, response, {
      ...(maxBodyBytes !== undefined && { maxBodyBytes }),
      bodyBudget,
      expectsContinue,
      refusal: connections.refusalFor(request.socket),
    })
  const server = createServer(serverOptions, (request, response) => serve(request, response, false))
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) =>
    serve(request, response, true),
  )
  connections.watch(server)
  return server
}
