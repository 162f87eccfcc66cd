// Two router instances sharing one Redis: their rpm limit on a backend holds across both, as it would across
// the replicas of a router behind a load balancer.
//
//   docker run --rm -p 6379:6379 redis:7     # or any Redis you have
//   REDIS_URL=redis://127.0.0.1:6379 pnpm --filter @rerank-kit/example-multi-instance start
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { RerankClient } from '@rerank-kit/client'
import { LocalReranker } from '@rerank-kit/core'
import { FallbackState, RedisState, Router } from '@rerank-kit/router'
import { createNodeListener, createRerankHandler, type ServedReranker } from '@rerank-kit/server'

// 1. Settings: the Redis both instances share (redis://[:password@]host:port[/db]), the backend's limit of
//    requests per minute (small, so a few requests reach it), the routers' ports (0: any free port).
const redisUrl = process.env.REDIS_URL ?? ''
if (redisUrl === '') {
  console.error('Set REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379')
  process.exit(1)
}
const rpm = Number(process.env.RPM ?? 4)
const ports = [Number(process.env.PORT_A ?? 4001), Number(process.env.PORT_B ?? 4002)]

async function serve(reranker: ServedReranker, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer(createNodeListener(createRerankHandler({ reranker })))
  await new Promise<void>((listening) => server.listen(port, '127.0.0.1', listening))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

// 2. One backend: a rerank-kit server over the repository's tiny test model, on a free port.
const model = resolve(import.meta.dirname, '../../../fixtures/models/tiny-bert-reranker')
const local = await LocalReranker.create({ models: [{ model, name: 'tiny-bert-reranker' }] })
const backend = await serve(local, 0)
console.log(`backend at ${backend.url} (rpm ${rpm})`)

// 3. A router instance, as each replica would build it. What makes them share the limit: the same deployment
//    id (the key of its counters in Redis) and a state store on the same Redis. FallbackState serves from
//    memory while Redis does not answer (limits then hold per instance), and goes back to Redis when it does.
//    From YAML, `redis_url: os.environ/REDIS_URL` in router_settings does the same (see ../router-yaml).
function routerInstance(): Router {
  return new Router({
    deployments: [
      {
        id: 'tiny-bert',
        modelName: 'rerank',
        rpm,
        reranker: new RerankClient({ baseUrl: backend.url, format: 'native', retry: false }),
      },
    ],
    state: new FallbackState({ redis: new RedisState({ redis: redisUrl }) }),
  })
}

// 4. Two instances (in one process here; two processes or machines work the same), each on its own port. Once
//    the combined rpm is used up, both answer 429 with a Retry-After (seconds until the minute turns).
const instances: { name: string; router: Router; server: Server }[] = []
for (const [i, name] of ['A', 'B'].entries()) {
  const router = routerInstance()
  const { server, url } = await serve(router, ports[i]!)
  instances.push({ name, router, server })
  // stats() waits for the first Redis connection: `state: redis` once it answered, else `memory`.
  const { state } = await router.stats()
  console.log(`router ${name} (state: ${state}) listening on ${url}`)
}

// 5. SIGTERM: stop accepting, let requests in flight finish, close the Redis connections and the backend.
process.once('SIGTERM', async () => {
  for (const { router, server } of instances) {
    await new Promise((closed) => server.close(closed))
    await router.close()
  }
  backend.server.closeAllConnections() // the routers' idle keep-alive connections
  await new Promise((closed) => backend.server.close(closed))
  await local.close()
  console.log('multi-instance stopped')
})
