import type { RerankHandlerOptions } from '@rerank-kit/server'
import { createRerankHandler, readBody, toPlainRequest, writePlainResponse } from '@rerank-kit/server'
import { Router } from 'express'

/**
 * The rerank routes as an Express (5 or 4) router: `app.use('/reranker', rerankRouter({ reranker }))`.
 * A body the app already parsed (express.json()) is used as is; otherwise the router reads it, with the limit.
 * Paths that are not rerank routes go on to the app's own handlers.
 */
export function rerankRouter(options: RerankHandlerOptions): Router {
  const handler = createRerankHandler(options)
  const maxBodyBytes = options.limits?.maxBodyBytes ?? 10 * 2 ** 20
  const router = Router()
  router.use(async (req, res, next) => {
    if (!handler.handles(req.url)) return next()
    try {
      let body: unknown = req.body
      let bodyError: unknown
      if (body === undefined && req.method !== 'GET' && req.method !== 'HEAD') {
        body = await readBody(req, maxBodyBytes).catch((error: unknown) => {
          bodyError = error
          res.once('finish', () => req.destroy())
          return undefined
        })
      }
      const plain = await toPlainRequest(req, res, body)
      writePlainResponse(res, await handler(bodyError === undefined ? plain : { ...plain, bodyError }))
    } catch (error) {
      next(error)
    }
  })
  return router
}
