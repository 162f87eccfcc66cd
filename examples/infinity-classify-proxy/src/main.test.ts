import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type FakeVendor,
  fakeScore,
  startFakeVendor,
} from '../../../packages/client/src/test-support/fake-vendors'
import { killExamples, startExampleApp } from '../../test-support/run-example'

// The example runs as its own process (port 0) in front of the client tests' fake Infinity server, whose
// /classify scores each prompt it can parse with fakeScore(query, document), the share of the query's words
// found in the document: the exact scores the proxy must answer.

const model = 'michaelfeil/mxbai-rerank-large-v2-seq'
const query = 'What is the capital of the United States?'
const documents = [
  'Carson City is the capital city of the American state of Nevada.',
  'Washington, D.C. is the capital of the United States.',
  'Capital punishment has existed in the United States since before it was a country.',
  'Bananas are rich in potassium.',
]
const rerank = (url: string, body: unknown) =>
  fetch(`${url}/v1/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

let infinity: FakeVendor
let app: Awaited<ReturnType<typeof startExampleApp>>
beforeAll(async () => {
  infinity = await startFakeVendor('infinity')
  app = await startExampleApp(join(import.meta.dirname, '..'), {
    INFINITY_URL: infinity.url,
    INFINITY_MODEL: model,
  })
}, 60_000)
afterAll(async () => {
  killExamples()
  await infinity?.close()
})

describe('infinity-classify-proxy', () => {
  it("answers Cohere's /v1/rerank with the classifier's scores, from one /classify call", async () => {
    const response = await rerank(app.url, { model, query, documents, top_n: 3, return_documents: true })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      results: { index: number; relevance_score: number; document: { text: string } }[]
    }
    const expected = documents
      .map((document, index) => ({ index, score: fakeScore(query, document) }))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, 3)
    expect(expected[0]!.index).toBe(1) // a real ranking, not the fake's 0.5 for prompts it cannot parse
    expect(body.results).toEqual(
      expected.map(({ index, score }) => ({
        index,
        relevance_score: score,
        document: { text: documents[index] },
      })),
    )
    // Upstream: the prompts of the mxbai-rerank-v2 template, all four documents in one call.
    const classify = infinity.requests.at(-1)!
    expect(classify.path).toBe('/classify')
    const sent = classify.body as { model: string; input: string[] }
    expect(sent.model).toBe(model)
    expect(sent.input).toHaveLength(documents.length)
    for (const [i, prompt] of sent.input.entries()) {
      expect(prompt).toContain(query)
      expect(prompt).toContain(documents[i])
    }
  })

  it("passes an upstream failure on in Cohere's error format", async () => {
    infinity.faults.push({ status: 500, message: 'CUDA out of memory' })
    const response = await rerank(app.url, { query, documents })
    // Infinity's 500 is the upstream's failure, not this server's: 502, with Cohere's `{"message"}` body. The
    // upstream's own message stays out of the answer (it may name internals).
    expect(response.status).toBe(502)
    expect(await response.json()).toEqual({ message: 'An upstream reranker failed' })
    expect(infinity.requests.at(-1)!.path).toBe('/classify')
    // The log says why, naming Infinity by host (the answer to the caller does not).
    await app.waitFor(new RegExp(`Infinity at ${new URL(infinity.url).host} failed: answered HTTP 500`))
    expect(app.output()).not.toContain('CUDA')
  })

  it('refuses an invalid request before calling Infinity', async () => {
    const calls = infinity.requests.length
    const empty = await rerank(app.url, { query: '', documents })
    expect(empty.status).toBe(400)
    expect(await empty.json()).toEqual({ message: 'Invalid request: query must not be empty' })
    expect(infinity.requests).toHaveLength(calls)
  })

  it('exits 0 on SIGTERM', async () => {
    app.child.kill('SIGTERM')
    expect(await app.exited, app.output()).toBe(0)
    expect(app.output()).toContain('infinity-classify-proxy stopped')
  })
})

describe('infinity-classify-proxy while Infinity is down', () => {
  // A stand-in for Infinity's health route: 200 while `up`, 503 otherwise; closed later (connection refused).
  let up = true
  let upstream: Server
  let upstreamUrl: string
  let proxy: Awaited<ReturnType<typeof startExampleApp>>
  beforeAll(async () => {
    upstream = createServer((req, res) => {
      res.writeHead(req.url === '/health' && up ? 200 : 503, { 'content-type': 'application/json' })
      res.end('{}')
    })
    await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done))
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    proxy = await startExampleApp(join(import.meta.dirname, '..'), {
      INFINITY_URL: upstreamUrl,
      INFINITY_HEALTH_PATH: '/health',
      HEALTH_INTERVAL_MS: '100',
    })
  }, 60_000)
  afterAll(() => {
    killExamples()
    upstream.closeAllConnections()
    upstream.close()
  })

  const ready = async () => (await fetch(`${proxy.url}/ready`)).status
  const host = () => new URL(upstreamUrl).host

  it('/ready follows the health check, and each change is logged', async () => {
    await proxy.waitFor(/is healthy: \/ready answers 200/, 10_000)
    expect(await ready()).toBe(200)

    up = false
    await proxy.waitFor(
      new RegExp(`Infinity at ${host()}: health check answered HTTP 503; /ready answers 503`),
      10_000,
    )
    expect(await ready()).toBe(503)

    upstream.closeAllConnections()
    await new Promise<void>((done) => upstream.close(() => done()))
    await proxy.waitFor(new RegExp(`Infinity at ${host()}: health check failed: ECONNREFUSED`), 10_000)
    expect(await ready()).toBe(503)
  })

  it('answers 502 and logs ECONNREFUSED with the host, once for repeated failures', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await rerank(proxy.url, { query, documents })
      expect(response.status).toBe(502)
      expect(await response.json()).toEqual({ message: 'Could not reach an upstream reranker' })
    }
    const line = `Infinity at ${host()} failed: ECONNREFUSED`
    await proxy.waitFor(new RegExp(line), 10_000)
    expect(proxy.output().split(line)).toHaveLength(2)
  })
})
