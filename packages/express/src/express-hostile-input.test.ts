import { createServer } from 'node:http'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { describeHostileInput } from '../../server/src/test-support/hostile-input-spec'
import { listening } from '../../server/src/test-support/listening'
import { OverlapReranker } from '../../server/src/test-support/overlap-reranker'
import { rerankRouter } from './index'

// The hostile-input spec against the router in an Express app that reads bodies itself (no parser)...
describeHostileInput(
  'express',
  (options) => {
    const app = express()
    app.use('/reranker', rerankRouter(options))
    return listening(createServer(app))
  },
  { closesRefusedBodies: true },
)

// ...and what changes behind the app's own express.json(): the body arrives parsed, so the protocol's checks
// (nesting, prototype keys) must hold on objects the adapter never saw as bytes.
describe('express behind express.json(): hostile bodies parsed by the app', () => {
  it('refuses deep documents and keeps __proto__ keys out of the request', async () => {
    const reranker = new OverlapReranker()
    const app = express()
    app.use(express.json({ limit: '2mb' }))
    app.use('/reranker', rerankRouter({ reranker }))
    const server = await listening(createServer(app))
    try {
      const post = (body: string) =>
        fetch(`${server.url}/reranker/v1/rerank`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
      const depth = 100_000
      const deep = await post(
        `{"query":"q","return_documents":true,"documents":[{"text":"a","x":${'['.repeat(depth)}${']'.repeat(depth)}}]}`,
      )
      expect(deep.status).toBe(400)
      expect(await deep.json()).toEqual({
        message: 'Invalid request: documents.0 nests deeper than 64 levels',
      })
      const poisoned = await post(
        '{"__proto__":{"polluted":"yes"},"query":"q","return_documents":true,"documents":[{"text":"a","__proto__":{"polluted":"yes"}}]}',
      )
      expect(poisoned.status).toBe(200)
      expect(((await poisoned.json()) as { results: unknown }).results).toEqual([
        { index: 0, relevance_score: 0, document: { text: 'a' } },
      ])
      const received = reranker.calls.at(-1)!.request
      expect(Object.getPrototypeOf(received.documents[0])).toBe(Object.prototype)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    } finally {
      await server.close()
    }
  })
})
