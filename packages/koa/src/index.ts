import {
  createRerankHandler,
  type PlainResponse,
  precheckNodeRequest,
  type RerankHandlerOptions,
  readPlainRequest,
} from '@rerank-kit/server'
import type { Context, Middleware } from 'koa'

function answer(ctx: Context, response: PlainResponse): void {
  ctx.status = response.status
  ctx.set(response.headers)
  ctx.body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body)
}

/**
 * The rerank routes as Koa (3 or 2) middleware: `app.use(rerankMiddleware({ reranker, prefix: '/reranker' }))`.
 * Works with a body parser (uses `ctx.request.body`) and without one (reads the body, with the limit). Other
 * paths go on down the middleware stack. A request its headers are enough to refuse (key, method, declared
 * size) is answered before its body is read (unless a body parser above read it already), and its connection
 * closed; Koa leaves `Expect: 100-continue` and the connection count to the host's server.
 */
export function rerankMiddleware(options: RerankHandlerOptions): Middleware {
  const handler = createRerankHandler(options)
  return async (ctx, next) => {
    if (!handler.handles(ctx.url)) return next()
    // ctx.ip: the client as the app's `proxy` setting sees it (failed keys are counted per address).
    const refused = precheckNodeRequest(handler, ctx.req, ctx.res, { remoteAddress: ctx.ip })
    if (refused) return answer(ctx, refused)
    const parsedBody = (ctx.request as { body?: unknown }).body
    answer(
      ctx,
      await handler(
        await readPlainRequest(ctx.req, ctx.res, { parsedBody, maxBodyBytes: options.limits?.maxBodyBytes }),
      ),
    )
  }
}
