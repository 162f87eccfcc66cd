import { type Logger, RerankError } from '@rerank-kit/protocol'
import {
  createRerankHandler,
  defaultMaxBodyBytes,
  precheckNodeRequest,
  type RerankHandlerOptions,
  toPlainRequest,
} from '@rerank-kit/server'
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

export interface RerankPluginOptions extends RerankHandlerOptions {
  /** Close the reranker when Fastify closes (set it when the plugin owns the reranker). */
  closeReranker?: boolean
}

/**
 * Fastify's pino logger takes fields first; ours passes the message first. Kept per logger: without request
 * logging every request shares one logger, and the wrapper need not be rebuilt for each.
 */
const wrappedLoggers = new WeakMap<FastifyBaseLogger, Logger>()
function fromPino(log: FastifyBaseLogger): Logger {
  let wrapped = wrappedLoggers.get(log)
  if (!wrapped) {
    wrapped = {
      debug: (message, fields) => log.debug(fields ?? {}, message),
      info: (message, fields) => log.info(fields ?? {}, message),
      warn: (message, fields) => log.warn(fields ?? {}, message),
      error: (message, fields) => log.error(fields ?? {}, message),
    }
    wrappedLoggers.set(log, wrapped)
  }
  return wrapped
}

const plugin: FastifyPluginAsync<RerankPluginOptions> = async (instance, options) => {
  // Fastify applies the register prefix itself; the handler sees paths relative to it.
  const handler = createRerankHandler({
    ...options,
    prefix: '',
    logger: options.logger ?? fromPino(instance.log),
  })
  // Bodies reach the handler as raw bytes, so content type, JSON and size errors are answered like on every
  // other server, in the route family's format. Scoped to this plugin: the app's parsers are untouched.
  const bodyLimit = options.limits?.maxBodyBytes ?? defaultMaxBodyBytes
  instance.removeAllContentTypeParsers()
  const asBytes = (_request: FastifyRequest, body: Buffer, done: (error: null, body: Buffer) => void) =>
    done(null, body)
  // JSON by name as well as '*': Fastify caches the parser it finds for a content type, except the '*' one,
  // which it finds again by parsing the header on every request.
  instance.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, asBytes)
  instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, asBytes)
  // Not an async route: Fastify would wait on the returned promise and then on the reply (a thenable) as
  // well, promise jobs on every request for an answer that is already sent. Nothing here rejects unanswered:
  // a throw while sending goes to Fastify's error path, which answers through `serve` again.
  const serve = (request: FastifyRequest, reply: FastifyReply, bodyError?: unknown): void => {
    const plain = toPlainRequest(request.raw, reply.raw, request.body, {
      path: request.url.slice(instance.prefix.length),
      // /docs and openapi.json show the register prefix Fastify took off.
      mountPath: instance.prefix,
      logger: fromPino(request.log),
      bodyError,
    })
    handler(plain).then(
      (response) => {
        try {
          const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body)
          reply.code(response.status).headers(response.headers).send(text)
        } catch (error) {
          reply.send(error)
        }
      },
      (error: unknown) => reply.send(error),
    )
  }
  // The handler's header-only checks (key, method, declared size) before Fastify reads the body: onRequest
  // runs before content-type parsing. A refused request is answered here and its connection closed, its body
  // unread. Fastify leaves `Expect: 100-continue` and the connection count to node:http.
  instance.addHook('onRequest', (request, reply, done) => {
    const refused = precheckNodeRequest(handler, request.raw, reply.raw, {
      path: request.url.slice(instance.prefix.length),
      logger: fromPino(request.log),
      // request.ip: the client as the app's trustProxy setting sees it (failed keys are counted per address).
      remoteAddress: request.ip,
    })
    if (!refused) return done()
    const text = typeof refused.body === 'string' ? refused.body : JSON.stringify(refused.body)
    reply.code(refused.status).headers(refused.headers).send(text)
  })
  // Fastify rejects some bodies before our route runs; answer them with the same words as other servers.
  const sameWords: Record<string, () => RerankError> = {
    FST_ERR_CTP_BODY_TOO_LARGE: () =>
      new RerankError('payload_too_large', `Request body is over the limit of ${bodyLimit} bytes`),
    FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
      new RerankError('invalid_request', 'Content-Type must be application/json'),
  }
  instance.setErrorHandler((error, request, reply) => {
    const code = (error as { code?: string }).code
    serve(request, reply, code && Object.hasOwn(sameWords, code) ? sameWords[code]!() : error)
  })
  // Every method, so that the handler answers a wrong one 405 (with Allow) like on every other server.
  for (const url of [...handler.routes.post, ...handler.routes.get]) {
    instance.all(url, (request, reply) => serve(request, reply))
  }
  if (options.closeReranker) {
    instance.addHook('onClose', async () => {
      await (options.reranker as { close?: () => Promise<void> }).close?.()
    })
  }
}

/** `app.register(rerankPlugin, { reranker, prefix: '/reranker' })`. Encapsulated: the app's own hooks,
 * parsers and routes are not touched. */
export const rerankPlugin = fp(plugin, { name: '@rerank-kit/fastify', fastify: '5.x', encapsulate: true })
