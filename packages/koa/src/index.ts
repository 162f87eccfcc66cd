import { createRerankHandler, type RerankHandlerOptions, readBody, toPlainRequest } from '@rerank-kit/server'
import type { Middleware } from 'koa'

/**
 * The rerank routes as Koa (3 or 2) middleware: `app.use(rerankMiddleware({ reranker, prefix: '/reranker' }))`.
 * Works with a body parser (uses `ctx.request.body`) and without one (reads the body, with the limit). Other
 * paths go on down the middleware stack.
 */
export function rerankMiddleware(options: RerankHandlerOptions): Middleware {
  const handler = createRerankHandler(options)
  const maxBodyBytes = options.limits?.maxBodyBytes ?? 10 * 2 ** 20
  return async (ctx, next) => {
    if (!handler.handles(ctx.url)) return next()
    let body = (ctx.request as { body?: unknown }).body
    let bodyError: unknown
    if (body === undefined && ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      body = await readBody(ctx.req, maxBodyBytes).catch((error: unknown) => {
        bodyError = error
        ctx.res.once('finish', () => ctx.req.destroy())
        return undefined
      })
    }
    const plain = await toPlainRequest(ctx.req, ctx.res, body)
    const response = await handler(bodyError === undefined ? plain : { ...plain, bodyError })
    ctx.status = response.status
    ctx.set(response.headers)
    ctx.body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body)
  }
}
