import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killExamples, startExampleApp } from './run-example'

/** What the spec needs of the in-process reference (a LocalReranker over the same model). */
export interface ReferenceReranker {
  rerank(request: {
    query: string
    documents: string[]
  }): Promise<{ results: { index: number; score: number }[] }>
  close(): Promise<void>
}

export interface ExampleAppContext {
  /** The app's base URL (its own routes; the rerank routes are under /reranker). */
  url: () => string
  /** The reference scores, as [index, score] best first. */
  expectedRanking: (query: string, documents: string[]) => Promise<[number, number][]>
}

// Loading a model in the app and in this process shares 2 cores with other test files: generous limits.
const startTimeoutMs = 90_000

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

/** Same ranking, same scores ([index, score] pairs). Scores cross a JSON round trip unchanged; the tolerance
 * only allows for a different batch composition. */
export function expectScores(actual: [number, number][], expected: [number, number][]): void {
  expect(actual.map(([index]) => index)).toEqual(expected.map(([index]) => index))
  for (const [i, [, score]] of actual.entries()) expect(score).toBeCloseTo(expected[i]![1], 9)
}

/**
 * Runs an example app (src/main.ts in `dir`) as a process on port 0 and checks, over real HTTP, what every
 * example app promises: its rerank routes score like an in-process LocalReranker over the same model, errors
 * come in each route family's format, and SIGTERM lets a request in flight finish, then exits 0.
 * `ownRoutes` adds the checks of the app's own routes.
 */
export function describeExampleApp(options: {
  name: string
  dir: string
  reference: () => Promise<ReferenceReranker>
  ownRoutes: (context: ExampleAppContext) => void
}) {
  describe(options.name, () => {
    let app: Awaited<ReturnType<typeof startExampleApp>>
    let reference: ReferenceReranker
    const url = () => app.url
    const expectedRanking = async (query: string, documents: string[]) =>
      (await reference.rerank({ query, documents })).results.map(
        ({ index, score }) => [index, score] as [number, number],
      )

    beforeAll(async () => {
      ;[app, reference] = await Promise.all([startExampleApp(options.dir), options.reference()])
    }, startTimeoutMs)
    afterAll(async () => {
      killExamples()
      await reference?.close()
    })

    options.ownRoutes({ url, expectedRanking })

    const query = 'capital of France'
    const documents = ['Berlin is the capital of Germany.', 'Paris is the capital of France.', 'Bananas.']

    it('answers the native and Cohere rerank routes with the in-process scores', async () => {
      const expected = await expectedRanking(query, documents)
      const native = await post(`${app.url}/reranker/rerank`, {
        model: 'tiny-bert-reranker',
        query,
        documents,
      })
      expect(native.status).toBe(200)
      const nativeBody = (await native.json()) as {
        model: string
        results: { index: number; relevance_score: number; document: { text: string } }[]
      }
      expect(nativeBody.model).toBe('tiny-bert-reranker')
      expectScores(
        nativeBody.results.map((result) => [result.index, result.relevance_score]),
        expected,
      )
      expect(nativeBody.results.map((result) => result.document.text)).toEqual(
        expected.map(([index]) => documents[index]),
      )

      const cohere = await post(`${app.url}/reranker/v1/rerank`, { query, documents, top_n: 2 })
      expect(cohere.status).toBe(200)
      const cohereBody = (await cohere.json()) as { results: { index: number; relevance_score: number }[] }
      expectScores(
        cohereBody.results.map((result) => [result.index, result.relevance_score]),
        expected.slice(0, 2),
      )
    })

    it('answers errors in the route family format', async () => {
      const empty = await post(`${app.url}/reranker/v1/rerank`, { query: '', documents })
      expect(empty.status).toBe(400)
      expect(await empty.json()).toEqual({ message: 'Invalid request: query must not be empty' })
      const malformed = await post(`${app.url}/reranker/v1/rerank`, '{"query": ')
      expect(malformed.status).toBe(400)
      expect(((await malformed.json()) as { message: string }).message).toMatch(
        /^Request body is not valid JSON/,
      )
      const unknown = await post(`${app.url}/reranker/rerank`, { model: 'no-such-model', query, documents })
      expect(unknown.status).toBe(404)
      expect(await unknown.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } })
    })

    it('finishes a request in flight on SIGTERM, then exits 0', async () => {
      const many = Array.from({ length: 2000 }, (_, i) => `document ${i} about bananas and France`)
      const inFlight = post(`${app.url}/reranker/rerank`, { query, documents: many, return_documents: false })
      let done = false
      void inFlight.finally(() => {
        done = true
      })
      // Signal once the app has the request (its pairs are queued or scored), or it has already answered.
      for (;;) {
        const stats = (await (await fetch(`${app.url}/reranker/stats`)).json()) as Record<
          string,
          { queuedPairs: number; runningBatches: number }
        >
        const busy = Object.values(stats).some((model) => model.queuedPairs + model.runningBatches > 0)
        if (busy || done) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      app.child.kill('SIGTERM')
      const finished = await inFlight
      expect(finished.status).toBe(200)
      expect(((await finished.json()) as { results: unknown[] }).results).toHaveLength(many.length)
      expect(await app.exited).toBe(0)
      expect(app.output()).toContain(`${options.name} stopped`)
    })
  })
}

/**
 * The own-routes check every framework example shares: `GET /hello` answers `greeting`, and a search route of
 * the app's own reranks its articles with the reference's scores and refuses a request without a query.
 */
export function ownRoutesSpec(options: {
  greeting: string
  search: (url: string, query: string) => Promise<Response>
  searchWithoutQuery: (url: string) => Promise<Response>
}): (context: ExampleAppContext) => void {
  return ({ url, expectedRanking }) => {
    it('still serves its own routes', async () => {
      expect(await (await fetch(`${url()}/hello`)).text()).toBe(options.greeting)

      const query = 'where is the Eiffel Tower'
      const search = await options.search(url(), query)
      expect(search.status).toBe(200)
      const { hits } = (await search.json()) as { hits: { article: string; score: number }[] }
      expect(hits).toHaveLength(3)
      // The app's own route scores like the reference too (its articles, reranked here in the same order).
      const expected = await expectedRanking(
        query,
        hits.map((hit) => hit.article),
      )
      expectScores(
        hits.map((hit, i) => [i, hit.score]),
        expected,
      )
      expect((await options.searchWithoutQuery(url())).status).toBe(400)
    })
  }
}

/** The JSON search route of the Express and Fastify examples: `POST /search {"query"}`. */
export const postSearch = (url: string, query: string) =>
  fetch(`${url}/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
export const postSearchWithoutQuery = (url: string) =>
  fetch(`${url}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
