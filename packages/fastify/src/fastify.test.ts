import type { AddressInfo } from 'node:net'
import type { RerankHandlerOptions } from '@rerank-kit/server'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { describeAdapter } from '../../server/src/test-support/adapter-spec'
import { describeHostileInput } from '../../server/src/test-support/hostile-input-spec'
import { OverlapReranker } from '../../server/src/test-support/overlap-reranker'
import { rerankPlugin } from './index'

/** The plugin next to the host app's own routes, on port 0. */
async function fastifyApp(options: RerankHandlerOptions) {
  const app = Fastify()
  app.get('/host/ping', async () => 'pong')
  app.post('/host/echo', async (request) => request.body)
  await app.register(rerankPlugin, { ...options, prefix: '/reranker' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: async () => {
      app.server.closeAllConnections()
      await app.close()
    },
  }
}

describeAdapter('fastify', fastifyApp, { hostRoutes: true })

// Fastify reads bodies and enforces their limit itself; it answers the 413 and leaves the connection to the
// client.
describeHostileInput('fastify', fastifyApp, { closesRefusedBodies: false })

describe('fastify plugin ownership', () => {
  it('closes the reranker with the app when it owns it', async () => {
    let closed = 0
    const reranker = Object.assign(new OverlapReranker(), { close: async () => void closed++ })
    const app = Fastify()
    await app.register(rerankPlugin, { reranker, closeReranker: true })
    const response = await app.inject({ method: 'GET', url: '/health' })
    expect(response.json()).toEqual({ status: 'ok' })
    await app.close()
    expect(closed).toBe(1)
  })
})
