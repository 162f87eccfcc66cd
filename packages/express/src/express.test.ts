import { createServer } from 'node:http'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { describeAdapter, expectOneRerank } from '../../server/src/test-support/adapter-spec'
import { listening } from '../../server/src/test-support/listening'
import { OverlapReranker } from '../../server/src/test-support/overlap-reranker'
import { rerankRouter } from './index'

const listen = (app: express.Express) => listening(createServer(app))

// The vitest project `express4` runs this file with `express` resolved to Express 4 (EXPRESS_MAJOR=4).
it('runs on the Express major its project is for', () => {
  // express.query() was removed in Express 5.
  const major = typeof (express as unknown as { query?: unknown }).query === 'function' ? 4 : 5
  expect(major).toBe(Number(process.env.EXPRESS_MAJOR ?? 5))
})

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
