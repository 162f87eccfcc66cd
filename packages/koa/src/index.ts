import { createRerankHandler, type RerankHandlerOptions, readPlainRequest } from '@rerank-kit/server'
import type { Middleware } from 'koa'

/**
 * The rerank routes as Koa (3 or 2) middleware: `app.use(rerankMiddleware({ reranker, prefix: '/reranker' }))`.
 * Works with a body parser (uses `ctx.request.body`) and without one (reads the body, with the limit). Other
 * paths go on down the middleware stack.
 */
export function rerankMiddleware(options: RerankHandlerOptions): Middleware {
  const handler = createRerankHandler(options)
  return async (ctx, next) => {
    if (!handler.handles(ctx.url)) return next()
    const parsedBody = (ctx.request as { body?: unknown }).body
    const response = await handler(
      await readPlainRequest(ctx.req, ctx.res, { parsedBody, maxBodyBytes: options.limits?.maxBodyBytes }),
    )
    ctx.status = response.status
    ctx.set(response.headers)
    ctx.body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body)
  }
}
