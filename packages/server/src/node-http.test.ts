import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RerankError } from '@rerank-kit/protocol'
import { Counter, Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRerankHandler, rerankRoutePaths } from './create-rerank-handler'
import type { RerankHandlerOptions } from './handler-types'
import { createNodeListener } from './node-http'
import { OverlapReranker } from './test-support/overlap-reranker'
import { parsePrometheus } from './test-support/parse-prometheus'
import { generatedRequestId } from './test-support/request-ids'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field by the assertions
const bodyOf = async (response: Response): Promise<any> => response.json()

// The handler behind a real node:http server on port 0, called with fetch, with a deterministic reranker
// (share of query words found in the document) so every score is known exactly.

async function listen(options: Omit<RerankHandlerOptions, 'reranker'>, reranker = new OverlapReranker()) {
  const server: Server = createServer(
    createNodeListener(createRerankHandler({ ...options, reranker }), options.limits),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { server, url, reranker, close: () => new Promise((resolve) => server.close(resolve)) }
}

const query = 'capital of France'
const documents = ['Berlin is the capital of Germany.', 'Paris is the capital of France.', 'Bananas.']
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

describe('rerank routes over node:http', () => {
  let app: Awaited<ReturnType<typeof listen>>
  beforeAll(async () => {
    app = await listen({ limits: { maxDocuments: 5, maxBodyBytes: 4096 } })
  })
  afterAll(() => app.close())

  it('native /rerank: documents returned by default, sorted, with usage and headers', async () => {
    const response = await post(`${app.url}/rerank`, { query, documents }, { 'x-request-id': 'abc-123' })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-request-id')).toBe('abc-123')
    // Milliseconds with one decimal, the same figure in both headers.
    const duration = /^total;dur=(\d+\.\d)$/.exec(response.headers.get('server-timing') ?? '')?.[1]
    expect(duration).toBeDefined()
    expect(response.headers.get('x-response-time')).toBe(`${duration}ms`)
    expect(await bodyOf(response)).toEqual({
      model: 'overlap',
      results: [
        { index: 1, relevance_score: 1, document: { text: documents[1] } },
        { index: 0, relevance_score: 2 / 3, document: { text: documents[0] } },
        { index: 2, relevance_score: 0, document: { text: documents[2] } },
      ],
      usage: { total_tokens: 42 },
    })
  })

  it('Cohere /v1/rerank and /v2/rerank: no documents unless asked, versioned meta', async () => {
    const answer = await post(`${app.url}/v1/rerank`, { query, documents, top_n: 2 })
    const v1 = await bodyOf(answer)
    expect(v1.results).toEqual([
      { index: 1, relevance_score: 1 },
      { index: 0, relevance_score: 2 / 3 },
    ])
    expect(v1.meta).toEqual({
      api_version: { version: '1' },
      billed_units: { search_units: 1 },
      tokens: { input_tokens: 42 },
    })
    // The body's id is the request id: one id finds a request in the logs and in the answer.
    expect(v1.id).toBe(answer.headers.get('x-request-id'))
    expect(v1.id).toMatch(generatedRequestId)
    const v2 = await bodyOf(
      await post(`${app.url}/v2/rerank`, { model: 'overlap', query, documents, top_n: 1 }),
    )
    expect(v2.meta.api_version.version).toBe('2')
    expect(v2.results).toEqual([{ index: 1, relevance_score: 1 }])
  })

  it('Jina /api/v1/rerank: documents by default', async () => {
    const body = await (
      await post(`${app.url}/api/v1/rerank`, { query, documents: [{ text: 'Paris, France' }] })
    ).json()
    expect(body).toEqual({
      model: 'overlap',
      usage: { total_tokens: 42 },
      results: [{ index: 0, relevance_score: 1 / 3, document: { text: 'Paris, France' } }],
    })
  })

  it('every family answers errors in its own shape with the status of the table', async () => {
    const bad = { query: '', documents }
    const cases: [string, unknown][] = [
      [
        '/rerank',
        {
          error: {
            code: 'invalid_request',
            message: 'Invalid request: query must not be empty',
            param: 'query',
          },
        },
      ],
      ['/v1/rerank', { message: 'Invalid request: query must not be empty' }],
      ['/v2/rerank', { message: 'Invalid request: query must not be empty' }],
      ['/api/v1/rerank', { detail: 'Invalid request: query must not be empty' }],
    ]
    for (const [path, expected] of cases) {
      const response = await post(`${app.url}${path}`, bad)
      expect(response.status, path).toBe(400)
      expect(await bodyOf(response), path).toEqual(expected)
    }
  })

  it('limits: too many documents 413, body too large 413, bad JSON and wrong content type 400', async () => {
    const many = await post(`${app.url}/v1/rerank`, { query, documents: Array(6).fill('x') })
    expect(many.status).toBe(413)
    expect(await bodyOf(many)).toEqual({ message: 'Too many documents: 6, the limit is 5 per request' })
    const huge = await post(`${app.url}/v1/rerank`, { query, documents: ['x'.repeat(5000)] })
    expect(huge.status).toBe(413)
    expect((await bodyOf(huge)).message).toMatch(/over the limit of 4096/)
    const broken = await post(`${app.url}/rerank`, '{"query": ')
    expect(broken.status).toBe(400)
    expect((await bodyOf(broken)).error.message).toMatch(/^Request body is not valid JSON/)
    const text = await post(`${app.url}/rerank`, JSON.stringify({ query, documents }), {
      'content-type': 'text/plain',
    })
    expect(text.status).toBe(400)
    expect((await bodyOf(text)).error.message).toBe('Content-Type must be application/json')
  })

  it('an unknown model is 404 listing the served models; aliases are served', async () => {
    const response = await post(`${app.url}/rerank`, { query, documents, model: 'gpt-4' })
    expect(response.status).toBe(404)
    expect((await bodyOf(response)).error).toEqual({
      code: 'model_not_found',
      message: 'Model "gpt-4" is not served here. Served models: overlap, overlap-alias',
      param: 'model',
    })
    expect((await post(`${app.url}/rerank`, { query, documents, model: 'overlap-alias' })).status).toBe(200)
  })

  it('health, ready, models, stats; unknown routes 404; an unsafe request id is replaced', async () => {
    expect(await bodyOf(await fetch(`${app.url}/health`))).toEqual({ status: 'ok' })
    expect(await bodyOf(await fetch(`${app.url}/ready`))).toEqual({ status: 'ready' })
    expect(await bodyOf(await fetch(`${app.url}/v1/models`))).toEqual({
      object: 'list',
      data: [
        { id: 'overlap', object: 'model', owned_by: 'rerank-kit' },
        { id: 'overlap-alias', object: 'model', owned_by: 'rerank-kit' },
      ],
    })
    expect((await bodyOf(await fetch(`${app.url}/lb/stats`))).calls).toBeGreaterThan(0)
    const missing = await fetch(`${app.url}/nope`, {
      headers: { 'x-request-id': `bad id ${'x'.repeat(200)}` },
    })
    expect(missing.status).toBe(404)
    const fresh = missing.headers.get('x-request-id')
    expect(fresh).toMatch(generatedRequestId)
    // Generated ids never repeat.
    expect((await fetch(`${app.url}/nope`)).headers.get('x-request-id')).not.toBe(fresh)
    app.reranker.isReady = false
    const loading = await fetch(`${app.url}/ready`)
    expect(loading.status).toBe(503)
    expect(loading.headers.get('retry-after')).toBe('1')
    app.reranker.isReady = true
  })
})

describe('/metrics', () => {
  it('exports request counters, latency histograms and the local engine series, parsed as Prometheus text', async () => {
    const engine = {
      requests: 2,
      failedRequests: 1,
      pairs: 12,
      batches: 3,
      meanBatchSize: 4,
      paddingRatio: 1.25,
      pairsPerSecond: 100,
      queuedPairs: 5,
      runningBatches: 1,
      latencyMs: { p50: 3.5, p95: 4, p99: 5 },
      provider: 'cpu',
    }
    const reranker = Object.assign(new OverlapReranker(), { stats: () => ({ 'mini "lm"': engine }) })
    const app = await listen({}, reranker)
    try {
      await post(`${app.url}/rerank`, { query, documents })
      await post(`${app.url}/rerank`, { query: '', documents })
      await post(`${app.url}/v2/rerank`, { model: 'unknown-model', query, documents })
      await fetch(`${app.url}/some/secret/path`)
      const response = await fetch(`${app.url}/metrics`)
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      const text = await response.text()
      const families = parsePrometheus(text)
      const samples = (name: string) => families.find((family) => family.name === name)?.metrics ?? []
      expect(samples('rerank_kit_http_requests_total')).toEqual(
        expect.arrayContaining([
          {
            value: '1',
            labels: {
              route: '/rerank',
              family: 'native',
              status: '200',
              status_class: '2xx',
              model: 'overlap',
            },
          },
          {
            value: '1',
            labels: {
              route: '/rerank',
              family: 'native',
              status: '400',
              status_class: '4xx',
              model: 'none',
            },
          },
          // Refused before a served model was known: "none" (a name sent by a client is never a label value).
          {
            value: '1',
            labels: {
              route: '/v2/rerank',
              family: 'cohere-v2',
              status: '404',
              status_class: '4xx',
              model: 'none',
            },
          },
          {
            value: '1',
            labels: { route: 'other', family: 'none', status: '404', status_class: '4xx', model: 'none' },
          },
        ]),
      )
      const histogram = families.find((family) => family.name === 'rerank_kit_http_request_duration_seconds')!
      expect(histogram.type).toBe('HISTOGRAM')
      expect(histogram.metrics).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ labels: { route: '/rerank', family: 'native' }, count: '2' }),
        ]),
      )
      const model = { model: 'mini "lm"' }
      expect(samples('rerank_kit_engine_pairs_total')).toEqual([{ value: '12', labels: model }])
      expect(samples('rerank_kit_engine_failed_requests_total')).toEqual([{ value: '1', labels: model }])
      expect(samples('rerank_kit_engine_queued_pairs')).toEqual([{ value: '5', labels: model }])
      expect(samples('rerank_kit_engine_padding_ratio')).toEqual([{ value: '1.25', labels: model }])
      expect(text).not.toContain('secret')
      expect(text).not.toContain('unknown-model')
    } finally {
      await app.close()
    }
  })

  it("goes to the host's registry when given: one endpoint shows the host's metrics and ours", async () => {
    const registry = new Registry()
    const hostCounter = new Counter({ name: 'host_app_orders_total', help: 'orders', registers: [registry] })
    hostCounter.inc(3)
    const app = await listen({ metricsRegistry: registry })
    try {
      await post(`${app.url}/rerank`, { query, documents })
      const families = parsePrometheus(await registry.metrics())
      expect(families.find((family) => family.name === 'host_app_orders_total')?.metrics).toEqual([
        { value: '3' },
      ])
      expect(families.find((family) => family.name === 'rerank_kit_http_requests_total')?.metrics).toEqual([
        {
          value: '1',
          labels: {
            route: '/rerank',
            family: 'native',
            status: '200',
            status_class: '2xx',
            model: 'overlap',
          },
        },
      ])
      // The handler's /metrics serves that same registry.
      expect(await (await fetch(`${app.url}/metrics`)).text()).toContain('host_app_orders_total 3')
    } finally {
      await app.close()
    }
  })
})

describe('/openapi.json and /docs', () => {
  it('documents every route from the parsing schemas, and serves a self-contained page', async () => {
    const app = await listen({ prefix: '/reranker' })
    try {
      const doc = await bodyOf(await fetch(`${app.url}/reranker/openapi.json`))
      expect(doc.openapi).toBe('3.1.0')
      // Every route the handler answers, and only those.
      expect(Object.keys(doc.paths).sort()).toEqual(
        [...rerankRoutePaths.post, ...rerankRoutePaths.get].map((path) => `/reranker${path}`).sort(),
      )
      expect(Object.keys(doc.paths)).toContain('/reranker/lb/stats')
      for (const path of rerankRoutePaths.get) {
        expect(Object.keys(doc.paths[`/reranker${path}`])).toEqual(['get'])
      }
      expect(Object.keys(doc.paths['/reranker/docs'].get.responses['200'].content)).toEqual(['text/html'])
      const v1 = doc.paths['/reranker/v1/rerank'].post
      const schema = v1.requestBody.content['application/json'].schema
      expect(schema.required).toEqual(['query'])
      expect(schema.properties.top_n.anyOf[0]).toMatchObject({ type: 'integer', minimum: 1 })
      expect(v1.responses['400'].content['application/json'].schema.required).toEqual(['message'])
      expect(
        doc.paths['/reranker/api/v1/rerank'].post.responses['400'].content['application/json'].schema
          .required,
      ).toEqual(['detail'])
      const page = await fetch(`${app.url}/reranker/docs`)
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
      const html = await page.text()
      // Rendered on the server: the routes are in the HTML itself, the curl examples at this server's address.
      expect(html).toContain('<code class="path">/reranker/v1/rerank</code>')
      expect(html).toContain(`curl &#39;${app.url}/reranker/rerank&#39; -X POST`)
      expect(html).not.toMatch(/src="http|href="http/)
    } finally {
      await app.close()
    }
  })
})

describe('CORS, unexpected errors and saturation', () => {
  it('is off by default; when on, answers preflights without a key and allows only listed origins', async () => {
    const plain = await listen({})
    try {
      const response = await post(
        `${plain.url}/v1/rerank`,
        { query, documents },
        { origin: 'https://app.example' },
      )
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
      // Without CORS a preflight is a method the route does not answer.
      const options = await fetch(`${plain.url}/v1/rerank`, { method: 'OPTIONS' })
      expect(options.status).toBe(405)
      expect(options.headers.get('allow')).toBe('POST')
    } finally {
      await plain.close()
    }
    const app = await listen({
      apiKeys: ['k'],
      cors: { origins: ['https://app.example'], maxAgeSeconds: 60 },
    })
    try {
      const preflight = await fetch(`${app.url}/v1/rerank`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      })
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example')
      expect(preflight.headers.get('access-control-allow-headers')).toBe(
        'authorization, content-type, x-api-key, x-request-id',
      )
      expect(preflight.headers.get('access-control-max-age')).toBe('60')
      const allowed = await post(
        `${app.url}/v1/rerank`,
        { query, documents },
        { origin: 'https://app.example', 'x-api-key': 'k' },
      )
      expect(allowed.status).toBe(200)
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example')
      const other = await post(
        `${app.url}/v1/rerank`,
        { query, documents },
        { origin: 'https://evil.example', 'x-api-key': 'k' },
      )
      expect(other.headers.get('access-control-allow-origin')).toBeNull()
    } finally {
      await app.close()
    }
  })

  it('an unexpected error is a generic 500 in the family format, logged with the request id', async () => {
    const lines: { message: string; fields?: Record<string, unknown> }[] = []
    const record = (message: string, fields?: Record<string, unknown>) =>
      void lines.push({ message, ...(fields && { fields }) })
    const broken = Object.assign(new OverlapReranker(), {
      rerank: async () => {
        throw new TypeError('cannot read secretToken of undefined')
      },
    })
    const app = await listen({ logger: { debug: record, info: record, warn: record, error: record } }, broken)
    try {
      const response = await post(`${app.url}/v1/rerank`, { query, documents }, { 'x-request-id': 'req-42' })
      expect(response.status).toBe(500)
      const text = await response.text()
      expect(JSON.parse(text)).toEqual({ message: 'Internal server error' })
      expect(text).not.toContain('secret')
      expect(lines).toHaveLength(1)
      expect(lines[0]!.message).toBe('request failed')
      expect(lines[0]!.fields).toMatchObject({ requestId: 'req-42', path: '/v1/rerank', code: 'internal' })
      expect(String(lines[0]!.fields?.error)).toContain('cannot read secretToken')
    } finally {
      await app.close()
    }
  })

  it('overload and rate limits answer at once with Retry-After', async () => {
    for (const [code, status] of [
      ['overloaded', 503],
      ['rate_limited', 429],
    ] as const) {
      const busy = Object.assign(new OverlapReranker(), {
        rerank: async () => {
          throw new RerankError(code, 'The queue is full (32000 pairs waiting)', { retryAfterMs: 1500 })
        },
      })
      const app = await listen({}, busy)
      try {
        const response = await post(`${app.url}/v1/rerank`, { query, documents })
        expect(response.status).toBe(status)
        expect(response.headers.get('retry-after')).toBe('2')
        expect(await bodyOf(response)).toEqual({ message: 'The queue is full (32000 pairs waiting)' })
      } finally {
        await app.close()
      }
    }
  })

  it('/ready is 503 while the reranker is saturated', async () => {
    const reranker = Object.assign(new OverlapReranker(), { isSaturated: true })
    const app = await listen({}, reranker)
    try {
      const response = await fetch(`${app.url}/ready`)
      expect(response.status).toBe(503)
      expect(await bodyOf(response)).toEqual({ status: 'saturated' })
      expect(response.headers.get('retry-after')).toBe('1')
    } finally {
      await app.close()
    }
  })
})

describe('auth, deadlines and disconnects', () => {
  it('keys by Bearer or x-api-key; the same 401 whatever the key; /health stays public', async () => {
    const app = await listen({ apiKeys: ['key-one', 'key-two'] })
    try {
      const noKey = await post(`${app.url}/v1/rerank`, { query, documents })
      const wrongKey = await post(
        `${app.url}/v1/rerank`,
        { query, documents },
        { authorization: 'Bearer key-on' },
      )
      expect(noKey.status).toBe(401)
      expect(wrongKey.status).toBe(401)
      expect(await noKey.text()).toBe(await wrongKey.text())
      expect(noKey.headers.get('www-authenticate')).toBe('Bearer')
      expect(
        (await post(`${app.url}/v1/rerank`, { query, documents }, { authorization: 'Bearer key-two' }))
          .status,
      ).toBe(200)
      expect(
        (await post(`${app.url}/v1/rerank`, { query, documents }, { 'x-api-key': 'key-one' })).status,
      ).toBe(200)
      expect((await fetch(`${app.url}/health`)).status).toBe(200)
      expect((await fetch(`${app.url}/v1/models`)).status).toBe(401)
    } finally {
      await app.close()
    }
  })

  it('a request past its deadline is 504 and its work is aborted', async () => {
    const app = await listen({ requestTimeoutMs: 50 })
    app.reranker.delayMs = 2000
    try {
      const started = performance.now()
      const response = await post(`${app.url}/v1/rerank`, { query, documents })
      expect(response.status).toBe(504)
      expect(performance.now() - started).toBeLessThan(1000)
      expect(await bodyOf(response)).toEqual({ message: 'No answer within 50 ms' })
      expect(app.reranker.calls.at(-1)?.signal?.aborted).toBe(true)
      // The reason AbortSignal.timeout would give: the work can tell a deadline from a disconnect.
      expect((app.reranker.calls.at(-1)!.signal!.reason as DOMException).name).toBe('TimeoutError')
    } finally {
      await app.close()
    }
  })

  it("a call answered in time is never aborted later: its deadline's timer goes with it", async () => {
    const app = await listen({ requestTimeoutMs: 50 })
    try {
      const response = await post(`${app.url}/rerank`, { query, documents })
      expect(response.status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 120))
      expect(app.reranker.calls.at(-1)?.signal?.aborted).toBe(false)
    } finally {
      await app.close()
    }
  })

  it.each([
    ['without a deadline', {}],
    ['with a deadline (one signal for both)', { requestTimeoutMs: 60_000 }],
  ])('a client that disconnects aborts its work, %s', async (_, options) => {
    const app = await listen(options)
    app.reranker.delayMs = 5000
    try {
      const controller = new AbortController()
      const pending = post(`${app.url}/rerank`, { query, documents }).catch((error: unknown) => error)
      void pending
      const request = fetch(`${app.url}/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, documents }),
        signal: controller.signal,
      }).catch((error: unknown) => error)
      while (app.reranker.calls.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
      controller.abort()
      await request
      const signal = app.reranker.calls[1]!.signal!
      for (let i = 0; i < 100 && !signal.aborted; i++) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(signal.aborted).toBe(true)
      expect((signal.reason as DOMException).name).toBe('AbortError')
      expect(app.reranker.calls[0]!.signal!.aborted).toBe(false)
    } finally {
      app.server.closeAllConnections()
      await app.close()
    }
  })
})
