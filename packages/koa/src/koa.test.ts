import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import { describeAdapter } from '../../server/src/test-support/adapter-spec'
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
    const server: Server = await new Promise((resolve) => {
      const started = app.listen(0, '127.0.0.1', () => resolve(started))
    })
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      },
    }
  },
  { hostRoutes: true },
)
