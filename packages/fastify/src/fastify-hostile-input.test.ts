import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { describeHostileInput } from '../../server/src/test-support/hostile-input-spec'
import { rerankPlugin } from './index'

// The hostile-input spec against the plugin: Fastify reads bodies and enforces their limit itself.
describeHostileInput(
  'fastify',
  async (options) => {
    const app = Fastify()
    await app.register(rerankPlugin, { ...options, prefix: '/reranker' })
    await app.listen({ port: 0, host: '127.0.0.1' })
    return {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      close: async () => {
        app.server.closeAllConnections()
        await app.close()
      },
    }
  },
  // Fastify answers the 413 and leaves the connection to the client.
  { closesRefusedBodies: false },
)
