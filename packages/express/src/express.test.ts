import { createServer } from 'node:http'
import express from 'express'
import { describe, it } from 'vitest'
import { describeAdapter, expectOneRerank } from '../../server/src/test-support/adapter-spec'
import { listening } from '../../server/src/test-support/listening'
import { OverlapReranker } from '../../server/src/test-support/overlap-reranker'
import { rerankRouter } from './index'

const listen = (app: express.Express) => listening(createServer(app))

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
      await expectOneRerank(`${server.url}/reranker/v1/rerank`)
    } finally {
      await server.close()
    }
  })
})
