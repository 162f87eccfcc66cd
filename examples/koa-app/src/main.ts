// A Koa app with routes of its own, plus rerank-kit's rerank endpoints as middleware under /reranker.
//
//   pnpm --filter @rerank-kit/example-koa-app start                  # http://127.0.0.1:3000
//   PORT=0 MODEL_PATH=path/to/model pnpm --filter @rerank-kit/example-koa-app start
import { basename, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { LocalReranker } from '@rerank-kit/core'
import { rerankMiddleware } from '@rerank-kit/koa'
import Koa from 'koa'

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

const app = new Koa()

// 3. The rerank endpoints: POST /reranker/rerank (native), /reranker/v1/rerank (Cohere v1), /reranker/v2/rerank
//    (Cohere v2), /reranker/api/v1/rerank (Jina), plus GET /reranker/health, /ready, /openapi.json, /docs ...
//    Other paths go on down the middleware stack. It reads request bodies itself (a body parser's result, if
//    you use one, is taken as is).
app.use(rerankMiddleware({ reranker, prefix: '/reranker' }))

// 4. The app's own routes (a plain middleware here; @koa/router works the same way next to the rerank one).
const articles = [
  'Koa is a small, expressive web framework for Node.js.',
  'Cross-encoders score a query and a document together.',
  'The Eiffel Tower is in Paris.',
]
app.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/hello') {
    ctx.body = 'Hello from Koa!'
  } else if (ctx.method === 'GET' && ctx.path === '/search') {
    // GET /search?q=...: your code can call the reranker directly too, here to order the app's own articles.
    const query = ctx.query.q
    if (typeof query !== 'string' || query.trim() === '') {
      ctx.status = 400
      ctx.body = { error: 'Add ?q=...' }
      return
    }
    const { results } = await reranker.rerank({ query, documents: articles })
    ctx.body = { hits: results.map(({ index, score }) => ({ article: articles[index], score })) }
  } else {
    await next()
  }
})

// 5. Listen, print where, and shut down gracefully on SIGTERM: stop accepting, let requests in flight finish,
//    then release the model's worker threads. close() also waits for idle keep-alive connections to be dropped
//    by their clients, so once stopping, each is closed as soon as its last response is sent.
const server = app.listen(port, '127.0.0.1', () => {
  const { port } = server.address() as { port: number }
  console.log(`koa-app listening on http://127.0.0.1:${port}`)
})
server.on('request', (_req, res) =>
  res.on('finish', () => {
    if (!server.listening) server.closeIdleConnections()
  }),
)
process.once('SIGTERM', () => {
  server.close(async () => {
    await reranker.close()
    console.log('koa-app stopped')
  })
})
