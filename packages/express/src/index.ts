import type { RerankHandlerOptions } from '@rerank-kit/server'
import {
  createRerankHandler,
  precheckNodeRequest,
  readPlainRequest,
  writePlainResponse,
} from '@rerank-kit/server'
import { Router } from 'express'

/**
 * The rerank routes as an Express (5 or 4) router: `app.use('/reranker', rerankRouter({ reranker }))`.
 * A body the app already parsed (express.json()) is used as is; otherwise the router reads it, with the limit.
 * Paths that are not rerank routes go on to the app's own handlers. A request its headers are enough to refuse
 * (key, method, declared size) is answered before its body is read, and its connection closed; Express leaves
 * `Expect: 100-continue` and the connection count to the host's server (node:http answers 100 Continue
 * before the app runs).
 */
export function rerankRouter(options: RerankHandlerOptions): Router {
  const handler = createRerankHandler(options)
  const router = Router()
  router.use(async (req, res, next) => {
    if (!handler.handles(req.url)) return next()
    try {
      // req.ip: the client as the app's `trust proxy` setting sees it (failed keys are counted per address).
      const refused = precheckNodeRequest(handler, req, res, { ...(req.ip && { remoteAddress: req.ip }) })
      if (refused) return writePlainResponse(res, refused)
      const plain = await readPlainRequest(req, res, {
        parsedBody: req.body,
        maxBodyBytes: options.limits?.maxBodyBytes,
        // Express strips the mount path (`app.use('/reranker', ...)`); /docs and openapi.json must show it.
        mountPath: req.baseUrl,
      })
      writePlainResponse(res, await handler(plain))
    } catch (error) {
      next(error)
    }
  })
  return router
}
