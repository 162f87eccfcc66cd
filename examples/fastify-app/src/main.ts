// A Fastify app with routes of its own, plus rerank-kit's rerank endpoints registered as a plugin under /reranker.
//
//   pnpm --filter @rerank-kit/example-fastify-app start                  # http://127.0.0.1:3000
//   PORT=0 MODEL_PATH=path/to/model pnpm --filter @rerank-kit/example-fastify-app start
import { basename, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { LocalReranker } from '@rerank-kit/core'
import { rerankPlugin } from '@rerank-kit/fastify'
import Fastify from 'fastify'

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

// Fastify's logger (pino) prints one JSON line per request; the rerank plugin logs through it too.
const app = Fastify({ logger: true })

// Node's close() waits for idle keep-alive connections to be dropped by their clients (Fastify keeps them 72 s):
// once the app is stopping, close each one as soon as its last response is sent. (Added first: it applies to
// every route, the plugin's included.)
app.addHook('onResponse', async () => {
  if (!app.server.listening) app.server.closeIdleConnections()
})

// 3. The rerank endpoints: POST /reranker/rerank (native), /reranker/v1/rerank (Cohere v1), /reranker/v2/rerank
//    (Cohere v2), /reranker/api/v1/rerank (Jina), plus GET /reranker/health, /ready, /openapi.json, /docs ...
//    The plugin is encapsulated: its raw-body parsing does not change how the routes below parse JSON.
//    closeReranker: the plugin closes the reranker when the app closes.
await app.register(rerankPlugin, { reranker, prefix: '/reranker', closeReranker: true })

// 4. The app's own routes, with Fastify's usual JSON parsing and schema validation.
app.get('/hello', async () => 'Hello from Fastify!')

const articles = [
  'Fastify is a fast web framework for Node.js.',
  'Cross-encoders score a query and a document together.',
  'The Eiffel Tower is in Paris.',
]
// Your code can call the reranker directly too: here, to order the app's own articles.
app.post<{ Body: { query: string } }>(
  '/search',
  {
    schema: {
      body: {
        type: 'object',
        required: ['query'],
        properties: { query: { type: 'string', pattern: '\\S' } }, // not blank
      },
    },
  },
  async (request) => {
    const { results } = await reranker.rerank({ query: request.body.query, documents: articles })
    return { hits: results.map(({ index, score }) => ({ article: articles[index], score })) }
  },
)

// 5. Listen and print where. On SIGTERM, app.close() stops accepting, lets requests in flight finish, then runs
//    the onClose hooks: the plugin's closes the reranker (its worker threads).
const address = await app.listen({ port, host: '127.0.0.1' })
console.log(`fastify-app listening on ${address}`)
process.once('SIGTERM', async () => {
  await app.close()
  console.log('fastify-app stopped')
})
