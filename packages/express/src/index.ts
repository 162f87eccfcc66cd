import type { RerankHandlerOptions } from '@rerank-kit/server'
import { createRerankHandler, readPlainRequest, writePlainResponse } from '@rerank-kit/server'
import { Router } from 'express'

/**
 * The rerank routes as an Express (5 or 4) router: `app.use('/reranker', rerankRouter({ reranker }))`.
 * A body the app already parsed (express.json()) is used as is; otherwise the router reads it, with the limit.
 * Paths that are not rerank routes go on to the app's own handlers.
 */
export function rerankRouter(options: RerankHandlerOptions): Router {
  const handler = createRerankHandler(options)
  const router = Router()
  router.use(async (req, res, next) => {
    if (!handler.handles(req.url)) return next()
    try {
      const plain = await readPlainRequest(req, res, {
        parsedBody: req.body,
        maxBodyBytes: options.limits?.maxBodyBytes,
      })
      writePlainResponse(res, await handler(plain))
    } catch (error) {
      next(error)
    }
  })
  return router
}
