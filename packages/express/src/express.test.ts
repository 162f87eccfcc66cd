import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { describeAdapter } from '../../server/src/test-support/adapter-spec'
import { OverlapReranker } from '../../server/src/test-support/overlap-reranker'
import { rerankRouter } from './index'

async function listen(app: express.Express) {
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
}

describeAdapter(
  'express',
  (options) => {
    const app = express()
    app.get('/host/ping', (_req, res) => {
      res.type('text').send('pong')
    })
    app.post('/host/echo', express.json(), (req, res) => {
      res.json(req.body)
    })
    app.use('/reranker', rerankRouter(options))
    return listen(app)
  },
  { hostRoutes: true },
)

describe('express with an app-wide JSON parser', () => {
  it('uses the body the app already parsed', async () => {
    const app = express()
    app.use(express.json())
    app.use('/reranker', rerankRouter({ reranker: new OverlapReranker() }))
    const server = await listen(app)
    try {
      const response = await fetch(`${server.url}/reranker/v1/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'capital of France', documents: ['Paris is the capital of France.'] }),
      })
      expect(response.status).toBe(200)
      expect(((await response.json()) as { results: unknown[] }).results).toEqual([
        { index: 0, relevance_score: 1 },
      ])
    } finally {
      await server.close()
    }
  })
})
