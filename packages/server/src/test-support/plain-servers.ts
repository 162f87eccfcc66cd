import { createServer } from 'node:http'
import { Readable } from 'node:stream'
import { createRerankHandler } from '../create-rerank-handler'
import { createFetchHandler } from '../fetch-handler'
import type { RerankHandlerOptions } from '../handler-types'
import { createRerankServer } from '../node-server'
import { listening } from './listening'

// The two servers of this package itself, under the /reranker prefix, for the specs that every adapter runs.

/** The node:http server, as the standalone server uses it. */
export function nodeHttpServer(options: RerankHandlerOptions) {
  const maxBodyBytes = options.limits?.maxBodyBytes
  return listening(
    createRerankServer(createRerankHandler({ ...options, prefix: '/reranker' }), {
      ...(maxBodyBytes !== undefined && { maxBodyBytes }),
    }),
  )
}

/**
 * The fetch handler behind a minimal node:http -> Request bridge, as Hono's or Bun's server would call it. The
 * bridge owns the connection (a refused body does not close it) and turns a client that goes away into the
 * Request's signal.
 */
export function fetchBridgeServer(options: RerankHandlerOptions) {
  const handle = createFetchHandler(createRerankHandler({ ...options, prefix: '/reranker' }), options.limits)
  return listening(
    createServer(async (req, res) => {
      const controller = new AbortController()
      res.on('close', () => {
        if (!res.writableFinished) controller.abort()
      })
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
      const request = new Request(`http://localhost${req.url}`, {
        method: req.method ?? 'GET',
        headers: req.headers as Record<string, string>,
        ...(hasBody && { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' }),
        signal: controller.signal,
      } as RequestInit)
      const response = await handle(request)
      res.writeHead(response.status, Object.fromEntries(response.headers))
      res.end(Buffer.from(await response.arrayBuffer()))
    }),
  )
}
