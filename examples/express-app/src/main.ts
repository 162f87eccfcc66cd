// An Express app with routes of its own, plus rerank-kit's rerank endpoints mounted under /reranker.
//
//   pnpm --filter @rerank-kit/example-express-app start                  # http://127.0.0.1:3000
//   PORT=0 MODEL_PATH=path/to/model pnpm --filter @rerank-kit/example-express-app start
import { basename, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { LocalReranker } from '@rerank-kit/core'
import { rerankRouter } from '@rerank-kit/express'
import express, { type NextFunction, type Request, type Response } from 'express'

// 1. Settings: flags win over environment variables. Port 0 picks a free port. A model path is read relative to
//    where the command was typed (pnpm runs us in this folder and passes that place as INIT_CWD).
const { values } = parseArgs({ options: { port: { type: 'string' }, 'model-path': { type: 'string' } } })
const port = Number(values.port ?? process.env.PORT ?? 3000)
const modelPath = values['model-path'] ?? process.env.MODEL_PATH
const model = modelPath
  ? resolve(process.env.INIT_CWD ?? process.cwd(), modelPath)
  : resolve(import.meta.dirname, '../../../fixtures/models/tiny-bert-reranker') // a tiny test model

// 2. Load the model once, before serving. Requests may name it by its folder name.
const reranker = await LocalReranker.create({ models: [{ model, name: basename(model) }] })

const app = express()

// 3. The app's own routes. express.json() is applied where the app needs it; the rerank router reads its own
//    bodies, so a malformed one is answered in the rerank route's format (it would also use a parsed body).
app.get('/hello', (_req, res) => {
  res.send('Hello from Express!')
})

const articles = [
  'Express is a minimal web framework for Node.js.',
  'Cross-encoders score a query and a document together.',
  'The Eiffel Tower is in Paris.',
]
// Your code can call the reranker directly too: here, to order the app's own articles.
app.post('/search', express.json(), async (req, res) => {
  const query: unknown = req.body?.query
  if (typeof query !== 'string' || query.trim() === '') {
    res.status(400).json({ error: 'Send {"query": "..."}' })
    return
  }
  const { results } = await reranker.rerank({ query, documents: articles })
  res.json({ hits: results.map(({ index, score }) => ({ article: articles[index], score })) })
})

// 4. The rerank endpoints: POST /reranker/rerank (native), /reranker/v1/rerank (Cohere v1), /reranker/v2/rerank
//    (Cohere v2), /reranker/api/v1/rerank (Jina), plus GET /reranker/health, /ready, /openapi.json, /docs ...
app.use('/reranker', rerankRouter({ reranker }))

// 5. Errors of the app's own routes as JSON: without this, Express answers a body that is not JSON (or a
//    reranker that is overloaded) with an HTML page showing the stack trace and the server's file paths.
//    Registered last, so it sees the errors of every route above.
app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
  if (res.headersSent) return next(error) // Express then ends the half-sent response
  const { status, message, publicMessage, retryAfterMs } = error as {
    status?: unknown
    message?: unknown
    publicMessage?: unknown
    retryAfterMs?: unknown
  }
  // body-parser's errors (400 bad JSON, 413 too large) and the reranker's (a RerankError: 429, 503..., with a
  // publicMessage safe to show) carry a status. Anything else is a bug: logged here, not shown to the caller.
  if (typeof status !== 'number' || status < 400 || status > 599 || status === 500) {
    console.error('express-app: unhandled error', error)
    res.status(500).json({ error: 'Internal server error' })
    return
  }
  if (typeof retryAfterMs === 'number') res.set('retry-after', String(Math.ceil(retryAfterMs / 1000)))
  const parseFailed = (error as { type?: unknown }).type === 'entity.parse.failed'
  const shown = parseFailed ? 'The body is not valid JSON' : (publicMessage ?? message)
  res.status(status).json({ error: String(shown) })
})

// 6. Listen, print where, and shut down gracefully on SIGTERM: stop accepting, let requests in flight finish,
//    then release the model's worker threads. close() also waits for idle keep-alive connections to be dropped
//    by their clients, so once stopping, each is closed as soon as its last response is sent.
const server = app.listen(port, '127.0.0.1', (error) => {
  if (error) throw error // e.g. the port is taken
  const { port } = server.address() as { port: number }
  console.log(`express-app listening on http://127.0.0.1:${port}`)
})
server.on('request', (_req, res) =>
  res.on('finish', () => {
    if (!server.listening) server.closeIdleConnections()
  }),
)
process.once('SIGTERM', () => {
  server.close(async () => {
    await reranker.close()
    console.log('express-app stopped')
  })
})
