import { createServer } from 'node:http'
import Koa from 'koa'
import { describeHostileInput } from '../../server/src/test-support/hostile-input-spec'
import { listening } from '../../server/src/test-support/listening'
import { rerankMiddleware } from './index'

// The hostile-input spec against the middleware in a Koa app without a body parser (it reads bodies itself).
describeHostileInput(
  'koa',
  async (options) => {
    const app = new Koa()
    app.use(rerankMiddleware({ ...options, prefix: '/reranker' }))
    return listening(createServer(app.callback()))
  },
  { closesRefusedBodies: true },
)
