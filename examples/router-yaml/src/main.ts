// A LiteLLM-style router from a YAML file, in front of two rerank-kit servers, served over HTTP.
//
//   pnpm --filter @rerank-kit/example-router-yaml start             # router on http://127.0.0.1:4000
//   PORT=0 pnpm --filter @rerank-kit/example-router-yaml start      # any free port
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import { loadRouterConfig, routerFromConfig } from '@rerank-kit/router'
import { createNodeListener, createRerankHandler, type ServedReranker } from '@rerank-kit/server'

const port = Number(process.env.PORT ?? 4000)

/** Serves `reranker` on 127.0.0.1:`port` (0: any free port) and resolves with its URL. */
async function serve(reranker: ServedReranker, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer(createNodeListener(createRerankHandler({ reranker })))
  await new Promise<void>((listening) => server.listen(port, '127.0.0.1', listening))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

// 1. Two backends: rerank-kit servers over the repository's tiny test model, on free ports. In production they
//    are separate machines (or TEI, Infinity, Cohere...); here both share one loaded model to stay light.
const model = resolve(import.meta.dirname, '../../../fixtures/models/tiny-bert-reranker')
const local = await LocalReranker.create({ models: [{ model, name: 'tiny-bert-reranker' }] })
const backendA = await serve(local, 0)
const backendB = await serve(local, 0)
console.log(`backend A at ${backendA.url}, backend B at ${backendB.url}`)

// 2. router.yaml names the backends' addresses as `os.environ/BACKEND_A_URL` and `os.environ/BACKEND_B_URL`:
//    set them, then load the file. A bad file throws a RouterConfigError naming each bad key and its path.
process.env.BACKEND_A_URL = backendA.url
process.env.BACKEND_B_URL = backendB.url
const config = await loadRouterConfig(resolve(import.meta.dirname, '../router.yaml'))
const router = routerFromConfig(config)

// 3. Serve the router like any reranker: POST /rerank (native; `model` names the group), /v1/rerank and
//    /v2/rerank (Cohere), /api/v1/rerank (Jina), plus GET /v1/models (the groups) and /lb/stats (per backend:
//    requests, successes, failures, latency, cooldowns).
const front = await serve(router, port)
console.log(`router-yaml listening on ${front.url}`)

// 4. On SIGTERM: stop accepting, let requests in flight finish, then close the router and the backends.
process.once('SIGTERM', async () => {
  await new Promise((closed) => front.server.close(closed))
  await router.close()
  for (const { server } of [backendA, backendB]) {
    server.closeAllConnections() // the router's idle keep-alive connections
    await new Promise((closed) => server.close(closed))
  }
  await local.close()
  console.log('router-yaml stopped')
})
