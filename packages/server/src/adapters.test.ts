import { createServer } from 'node:http'
import { Readable } from 'node:stream'
import { createRerankHandler } from './create-rerank-handler'
import { createFetchHandler } from './fetch-handler'
import { createNodeListener } from './node-http'
import { describeAdapter } from './test-support/adapter-spec'
import { listening } from './test-support/listening'

describeAdapter(
  'node:http',
  (options) =>
    listening(
      createServer(
        createNodeListener(createRerankHandler({ ...options, prefix: '/reranker' }), options.limits),
      ),
    ),
  { hostRoutes: false },
)

// The fetch handler behind a minimal node:http -> Request bridge, as Hono's or Bun's server would call it.
describeAdapter(
  'fetch',
  (options) => {
    const handle = createFetchHandler(
      createRerankHandler({ ...options, prefix: '/reranker' }),
      options.limits,
    )
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
  },
  { hostRoutes: false },
)
