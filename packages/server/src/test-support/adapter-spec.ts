import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rerankRoutePaths } from '../create-rerank-handler'
import type { RerankHandlerOptions } from '../handler-types'
import { docsExamples, rankedItems, runShownExample } from './docs-browser'
import { OverlapReranker } from './overlap-reranker'
import { generatedRequestId } from './request-ids'

/** A running app with the rerank routes mounted at `/reranker` next to the host's own routes. */
export interface MountedApp {
  /** Base URL of the app (no prefix). */
  url: string
  close: () => Promise<void>
}

/**
 * Starts the app under test on port 0. The rerank routes go under `/reranker`; frameworks with a host app also
 * serve `GET /host/ping` -> "pong" and `POST /host/echo` (JSON echo) so we can prove they are undisturbed.
 */
export type StartApp = (options: RerankHandlerOptions) => Promise<MountedApp>

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field by the assertions
const bodyOf = async (response: Response): Promise<any> => response.json()

const query = 'capital of France'
const documents = ['Berlin is the capital of Germany.', 'Paris is the capital of France.', 'Bananas.']

/** The same spec for node:http, the fetch handler, Express, Fastify and Koa. */
export function describeAdapter(name: string, start: StartApp, options: { hostRoutes: boolean }) {
  describe(`${name} adapter`, () => {
    const reranker = new OverlapReranker()
    let app: MountedApp
    const base = () => `${app.url}/reranker`
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base()}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer secret', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })

    beforeAll(async () => {
      app = await start({ reranker, apiKeys: ['secret'], limits: { maxBodyBytes: 4096, maxDocuments: 10 } })
    })
    afterAll(() => app.close())

    it('serves every rerank route in its format', async () => {
      const native = await post('/rerank', { query, documents, top_n: 2 })
      expect(native.status).toBe(200)
      expect(native.headers.get('x-request-id')).toMatch(generatedRequestId)
      expect(await bodyOf(native)).toEqual({
        model: 'overlap',
        results: [
          { index: 1, relevance_score: 1, document: { text: documents[1] } },
          { index: 0, relevance_score: 2 / 3, document: { text: documents[0] } },
        ],
        usage: { total_tokens: 42 },
      })
      const cohere = await bodyOf(await post('/v1/rerank', { query, documents, top_n: 1 }))
      expect(cohere.results).toEqual([{ index: 1, relevance_score: 1 }])
      expect(cohere.meta.api_version.version).toBe('1')
      const v2 = await bodyOf(await post('/v2/rerank', { model: 'overlap', query, documents, top_n: 1 }))
      expect(v2.meta.api_version.version).toBe('2')
      const jina = await bodyOf(await post('/api/v1/rerank', { query, documents: ['Paris is in France'] }))
      expect(jina.results).toEqual([
        { index: 0, relevance_score: 1 / 3, document: { text: 'Paris is in France' } },
      ])
      const voyage = await bodyOf(
        await post('/voyage/v1/rerank', { query, documents, top_k: 1, return_documents: true }),
      )
      expect([voyage.object, voyage.data]).toEqual([
        'list',
        [{ index: 1, relevance_score: 1, document: documents[1] }],
      ])
      const mixedbread = await bodyOf(await post('/v1/reranking', { query, input: documents, top_k: 1 }))
      expect([mixedbread.top_k, mixedbread.data]).toEqual([1, [{ index: 1, score: 1 }]])
      // TEI: a bare array; the older mixedbread SDK's bare key in Authorization works like Bearer.
      const tei = await post('/tei/rerank', { query, texts: documents }, { authorization: 'secret' })
      expect(await bodyOf(tei)).toEqual([
        { index: 1, score: 1 },
        { index: 0, score: 2 / 3 },
        { index: 2, score: 0 },
      ])
      const info = await fetch(`${base()}/tei/info`, { headers: { authorization: 'Bearer secret' } })
      expect((await bodyOf(info)).model_id).toBe('overlap')
    })

    it('moves route families with routeFamilies: TEI at the mount point, native under /native', async () => {
      const moved = await start({ reranker, routeFamilies: { tei: '/', native: '/native' } })
      try {
        const send = (path: string, body: unknown) =>
          fetch(`${moved.url}/reranker${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
        expect(await bodyOf(await send('/rerank', { query, texts: documents.slice(0, 2) }))).toEqual([
          { index: 1, score: 1 },
          { index: 0, score: 2 / 3 },
        ])
        const native = await bodyOf(await send('/native/rerank', { query, documents, top_n: 1 }))
        expect(native.results).toEqual([{ index: 1, relevance_score: 1, document: { text: documents[1] } }])
        expect((await send('/tei/rerank', { query, texts: documents })).status).toBe(404)
      } finally {
        await moved.close()
      }
    })

    it('answers errors in each family format, the same on every framework', async () => {
      const bad = { query: ' ', documents }
      expect(await bodyOf(await post('/rerank', bad))).toEqual({
        error: {
          code: 'invalid_request',
          message: 'Invalid request: query must not be empty',
          param: 'query',
        },
      })
      expect(await bodyOf(await post('/v1/rerank', bad))).toEqual({
        message: 'Invalid request: query must not be empty',
      })
      expect(await bodyOf(await post('/api/v1/rerank', bad))).toEqual({
        detail: 'Invalid request: query must not be empty',
      })
      const broken = await post('/v1/rerank', '{"query": ')
      expect(broken.status).toBe(400)
      expect((await bodyOf(broken)).message).toMatch(/^Request body is not valid JSON/)
      const text = await post('/v1/rerank', JSON.stringify({ query, documents }), {
        'content-type': 'text/plain',
      })
      expect(text.status).toBe(400)
      expect(await bodyOf(text)).toEqual({ message: 'Content-Type must be application/json' })
      const model = await post('/v1/rerank', { query, documents, model: 'nope' })
      expect(model.status).toBe(404)
      expect((await bodyOf(model)).message).toBe(
        'Model "nope" is not served here. Served models: overlap, overlap-alias',
      )
    })

    it('enforces the limits: body size and document count are 413 in the family format', async () => {
      const huge = await post('/v1/rerank', { query, documents: ['x'.repeat(6000)] })
      expect(huge.status).toBe(413)
      expect((await bodyOf(huge)).message).toMatch(/over the limit of 4096/)
      const many = await post('/api/v1/rerank', { query, documents: Array(11).fill('x') })
      expect(many.status).toBe(413)
      expect(await bodyOf(many)).toEqual({ detail: 'Too many documents: 11, the limit is 10 per request' })
    })

    it('requires a key except on /health, and answers 401 the same whatever the key', async () => {
      const none = await post('/v1/rerank', { query, documents }, { authorization: '' })
      const wrong = await post('/v1/rerank', { query, documents }, { authorization: 'Bearer secreT' })
      expect(none.status).toBe(401)
      expect(wrong.status).toBe(401)
      expect(await none.text()).toBe(await wrong.text())
      expect(
        (await post('/v1/rerank', { query, documents }, { authorization: '', 'x-api-key': 'secret' })).status,
      ).toBe(200)
      expect(await bodyOf(await fetch(`${base()}/health`))).toEqual({ status: 'ok' })
      const models = await fetch(`${base()}/v1/models`, { headers: { authorization: 'Bearer secret' } })
      expect((await bodyOf(models)).data.map((model: { id: string }) => model.id)).toEqual([
        'overlap',
        'overlap-alias',
      ])
    })

    it('aborts the work of a client that disconnects', async () => {
      reranker.delayMs = 5000
      try {
        const controller = new AbortController()
        const calls = reranker.calls.length
        const request = post('/rerank', { query, documents }).catch(() => undefined)
        const abandoned = fetch(`${base()}/rerank`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer secret' },
          body: JSON.stringify({ query, documents }),
          signal: controller.signal,
        }).catch(() => undefined)
        while (reranker.calls.length < calls + 2) await new Promise((resolve) => setTimeout(resolve, 5))
        controller.abort()
        await abandoned
        const signals = reranker.calls.slice(calls).map((call) => call.signal!)
        for (let i = 0; i < 200 && !signals.some((signal) => signal.aborted); i++) {
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        expect(signals.filter((signal) => signal.aborted)).toHaveLength(1)
        reranker.delayMs = 0
        void request
      } finally {
        reranker.delayMs = 0
      }
    })

    it('shows its mount point in /docs and openapi.json: each example answers 200 as shown', async () => {
      // Express and Fastify strip the mount point before the handler sees the path: the adapter hands it on.
      const key = { authorization: 'Bearer secret' }
      const { examples, paths } = await docsExamples(`${base()}/docs`, key)
      expect(paths.every((path) => path.startsWith('/reranker/'))).toBe(true)
      // One per route family: native, Cohere v1 and v2, Jina, Voyage, mixedbread, TEI.
      expect(examples).toHaveLength(rerankRoutePaths.post.length)
      expect(rerankRoutePaths.post).toHaveLength(7)
      for (const example of examples) {
        expect(example.startsWith(`curl '${base()}/`)).toBe(true)
        const { status, body } = await runShownExample(example, "-H 'authorization: Bearer secret'")
        expect(status, example).toBe(200)
        // TEI has no top_n: its example ranks both documents.
        expect(rankedItems(body), example).toHaveLength(example.includes('"top_') ? 1 : 2)
      }
    })

    if (options.hostRoutes) {
      it("leaves the host app's own routes working", async () => {
        expect(await (await fetch(`${app.url}/host/ping`)).text()).toBe('pong')
        const echo = await fetch(`${app.url}/host/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ a: 1 }),
        })
        expect(await bodyOf(echo)).toEqual({ a: 1 })
        expect((await fetch(`${app.url}/reranker/not-ours`)).status).toBe(404)
      })
    }
  })
}

/** One Cohere-format request through a mounted app (for adapter-specific set-ups such as body parsers). */
export async function expectOneRerank(url: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'capital of France', documents: ['Paris is the capital of France.'] }),
  })
  expect(response.status).toBe(200)
  expect((await bodyOf(response)).results).toEqual([{ index: 0, relevance_score: 1 }])
}
