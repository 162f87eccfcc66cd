import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { rerankRouter } from '@rerank-kit/express'
import { rerankPlugin } from '@rerank-kit/fastify'
import { rerankMiddleware } from '@rerank-kit/koa'
import { cohereFormat, type Reranker, rankScores } from '@rerank-kit/protocol'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'

export const frameworks = ['express', 'fastify', 'koa'] as const
export type Framework = (typeof frameworks)[number]

export const requestBody = JSON.stringify({
  query: 'what is deep learning',
  documents: Array.from(
    { length: 10 },
    (_, i) => `Document ${i}: deep learning is a subset of machine learning based on neural networks.`,
  ),
})

/** Answers at once, so the benchmark measures the HTTP layer, not a model. */
const stub: Reranker = {
  rerank: async (request) => ({
    model: 'stub',
    results: rankScores(
      request,
      request.documents.map((_, i) => 1 - i / request.documents.length),
    ),
  }),
}

/** What our route answers for `requestBody`: the bare routes send the same bytes, minus the work. */
async function fixedAnswer(): Promise<unknown> {
  const request = cohereFormat.parseRequest(JSON.parse(requestBody))
  return cohereFormat.formatResponse({ ...(await stub.rerank(request)), id: 'fixed' }, request)
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** The framework's app with a bare JSON route (`POST /bare`) and ours (`POST /reranker/v1/rerank`). */
export async function startApp(framework: Framework): Promise<number> {
  const fixed = await fixedAnswer()
  if (framework === 'express') {
    const app = express()
    app.post('/bare', express.json(), (_req, res) => {
      res.json(fixed)
    })
    app.use('/reranker', rerankRouter({ reranker: stub }))
    return listen(createServer(app))
  }
  if (framework === 'fastify') {
    const app = Fastify()
    app.post('/bare', async () => fixed)
    await app.register(rerankPlugin, { reranker: stub, prefix: '/reranker' })
    await app.listen({ port: 0, host: '127.0.0.1' })
    return (app.server.address() as AddressInfo).port
  }
  const app = new Koa()
  app.use(rerankMiddleware({ reranker: stub, prefix: '/reranker' }))
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || ctx.path !== '/bare') return
    const chunks: Buffer[] = []
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer)
    JSON.parse(Buffer.concat(chunks).toString('utf8'))
    ctx.body = fixed
  })
  return listen(createServer(app.callback()))
}
