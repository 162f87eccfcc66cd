import { createServer } from 'node:http'
import Koa from 'koa'
import { describeAdapter } from '../../server/src/test-support/adapter-spec'
import { listening } from '../../server/src/test-support/listening'
import { rerankMiddleware } from './index'

describeAdapter(
  'koa',
  async (options) => {
    const app = new Koa()
    app.use(rerankMiddleware({ ...options, prefix: '/reranker' }))
    app.use(async (ctx, next) => {
      if (ctx.method === 'GET' && ctx.path === '/host/ping') {
        ctx.body = 'pong'
        return
      }
      if (ctx.method === 'POST' && ctx.path === '/host/echo') {
        const chunks: Buffer[] = []
        for await (const chunk of ctx.req) chunks.push(chunk as Buffer)
        ctx.body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        return
      }
      await next()
    })
    return listening(createServer(app.callback()))
  },
  { hostRoutes: true },
)
