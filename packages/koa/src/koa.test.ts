import { createServer } from 'node:http'
import Koa from 'koa'
import { describe, it } from 'vitest'
import { describeAdapter, expectOneRerank } from '../../server/src/test-support/adapter-spec'
import { listening } from '../../server/src/test-support/listening'
import { OverlapReranker } from '../../server/src/test-support/overlap-reranker'
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

describe('koa behind a body parser', () => {
  it('uses ctx.request.body when a parser already read the body', async () => {
    const app = new Koa()
    // What koa-bodyparser does: read and parse the JSON body, leaving the stream consumed.
    app.use(async (ctx, next) => {
      if (ctx.is('application/json')) {
        const chunks: Buffer[] = []
        for await (const chunk of ctx.req) chunks.push(chunk as Buffer)
        ;(ctx.request as { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      }
      await next()
    })
    app.use(rerankMiddleware({ reranker: new OverlapReranker() }))
    const server = await listening(createServer(app.callback()))
    try {
      await expectOneRerank(`${server.url}/v1/rerank`)
    } finally {
      await server.close()
    }
  })
})
