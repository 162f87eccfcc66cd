import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger, RerankError, RerankRequest } from '@rerank-kit/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { ClientFormatName, RerankClientOptions } from '../client-options'
import { RerankClient } from '../rerank-client'
import {
  type FakeVendor,
  type FakeVendorKind,
  type FakeVendorOptions,
  fakeLogit,
  fakeScore,
  startFakeVendor,
} from './fake-vendors'

/** How the client sends: the platform fetch (default) or another fetch, e.g. nodeHttpFetch. */
export interface ClientTransport {
  name: string
  fetch?: typeof globalThis.fetch
}

/**
 * The client against local fakes of each vendor (written from api-formats.md, not from our format code):
 * requests on the wire, scores, error bodies, retries, faults, and the per-format rules. Run once per
 * transport, so every transport meets the same wire and the same failures.
 */
export function vendorSuite(transport: ClientTransport) {
  const transportOptions: Partial<RerankClientOptions> = transport.fetch ? { fetch: transport.fetch } : {}

  const query = 'deep learning neural networks'
  const documents = [
    'deep learning with neural networks',
    'learning to cook',
    'neural networks and deep learning rock',
    'bananas',
  ]
  /** What every fake answers for `documents`: sorted by score, ties by index. */
  const expected = documents
    .map((document, index) => ({ index, score: fakeScore(query, document) }))
    .sort((a, b) => b.score - a.score || a.index - b.index)

  const started: FakeVendor[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((fake) => fake.close()))
  })

  async function fake(kind: FakeVendorKind, options?: FakeVendorOptions) {
    const vendor = await startFakeVendor(kind, options)
    started.push(vendor)
    return vendor
  }

  function clientFor(
    vendor: FakeVendor,
    format: ClientFormatName,
    options: Partial<RerankClientOptions> = {},
  ) {
    return new RerankClient({
      ...transportOptions,
      baseUrl: vendor.url,
      format,
      model: 'some-model',
      retry: { limit: 2, backoffMs: 1 },
      ...options,
    })
  }

  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.unreachable('the call should have failed'),
      (error: unknown) => error as RerankError,
    )

  const vendors: { kind: FakeVendorKind; format: ClientFormatName; path: string }[] = [
    { kind: 'tei', format: 'tei', path: '/rerank' },
    { kind: 'infinity', format: 'infinity', path: '/rerank' },
    { kind: 'cohere', format: 'cohere', path: '/v1/rerank' },
    { kind: 'cohere', format: 'cohere-v2', path: '/v2/rerank' },
    { kind: 'jina', format: 'jina', path: '/v1/rerank' },
    { kind: 'voyage', format: 'voyage', path: '/v1/rerank' },
    { kind: 'mixedbread', format: 'mixedbread', path: '/v1/reranking' },
  ]

  describe.each(vendors)('$format client against a fake $kind', ({ kind, format, path }) => {
    it('gets every score, sorted, on the format path', async () => {
      const vendor = await fake(kind)
      const response = await clientFor(vendor, format).rerank({ query, documents })
      expect(response.results).toEqual(expected)
      expect(expected.map((r) => r.score)).toEqual([1, 1, 0.25, 0])
      expect(vendor.requests.map((r) => [r.method, r.path])).toEqual([['POST', path]])
    })

    it('applies topN and returns the documents', async () => {
      const vendor = await fake(kind)
      const response = await clientFor(vendor, format).rerank({
        query,
        documents,
        topN: 2,
        returnDocuments: true,
      })
      expect(response.results).toEqual(
        expected.slice(0, 2).map(({ index, score }) => ({ index, score, document: documents[index] })),
      )
    })

    it('decodes the vendor error body, and does not retry a 400', async () => {
      const vendor = await fake(kind)
      vendor.faults.push({ status: 400, message: 'the query is not good' })
      const error = await failureOf(clientFor(vendor, format).rerank({ query, documents }))
      expect(error).toMatchObject({
        code: 'invalid_request',
        status: 400,
        upstreamStatus: 400,
        retryable: false,
      })
      expect(error.message).toBe('the query is not good')
      expect(vendor.requests).toHaveLength(1)
    })

    it('retries a 429 after the Retry-After it was given, then succeeds', async () => {
      const vendor = await fake(kind)
      vendor.faults.push({ status: 429, headers: { 'retry-after': '0' } }, { status: 503 })
      const response = await clientFor(vendor, format).rerank({ query, documents })
      expect(response.results).toEqual(expected)
      expect(vendor.requests).toHaveLength(3)
    })
  })

  describe('failures that must not be retried', () => {
    it('a 500 is an upstream_error, sent once', async () => {
      const vendor = await fake('cohere')
      vendor.faults.push({ status: 500, message: 'boom' })
      const error = await failureOf(clientFor(vendor, 'cohere').rerank({ query, documents }))
      expect(error).toMatchObject({ code: 'upstream_error', upstreamStatus: 500, retryable: true })
      expect(vendor.requests).toHaveLength(1)
    })

    it('malformed JSON is an upstream_error saying so', async () => {
      const vendor = await fake('jina')
      vendor.faults.push({ malformedJson: true })
      const error = await failureOf(clientFor(vendor, 'jina').rerank({ query, documents }))
      expect(error.code).toBe('upstream_error')
      expect(error.message).toMatch(/not JSON/)
      expect(vendor.requests).toHaveLength(1)
    })

    it('a response of the wrong shape names the field', async () => {
      const vendor = await fake('cohere')
      vendor.faults.push({ body: { id: 'x', results: [{ index: 0, relevance_score: 'high' }] } })
      const error = await failureOf(clientFor(vendor, 'cohere').rerank({ query, documents }))
      expect(error.code).toBe('upstream_error')
      expect(error.message).toMatch(/results\.0\.relevance_score/)
    })

    it('a connection dropped after sending is a network_error, sent once (it may have been processed)', async () => {
      const vendor = await fake('tei')
      vendor.faults.push({ destroy: true })
      const error = await failureOf(clientFor(vendor, 'tei').rerank({ query, documents }))
      expect(error).toMatchObject({ code: 'network_error', status: 502 })
      expect(vendor.requests).toHaveLength(1)
    })

    it('a slow server is a timeout, sent once', async () => {
      const vendor = await fake('voyage')
      vendor.faults.push({ delayMs: 1_000 })
      const error = await failureOf(
        clientFor(vendor, 'voyage', { timeoutMs: 100 }).rerank({ query, documents }),
      )
      expect(error).toMatchObject({ code: 'timeout', status: 504 })
      expect(error.message).toContain('100 ms')
      // A timeout's message is public (servers show it): it must not give away the upstream's address.
      expect(error.publicMessage).not.toContain(vendor.url)
      expect(vendor.requests).toHaveLength(1)
    })

    it('a Retry-After beyond maxRetryAfterMs is handed to the caller at once', async () => {
      const vendor = await fake('cohere')
      vendor.faults.push({ status: 429, headers: { 'retry-after': '60' } })
      const error = await failureOf(clientFor(vendor, 'cohere').rerank({ query, documents }))
      expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 60_000 })
      expect(vendor.requests).toHaveLength(1)
    })

    it('retry: false sends once even when the server asks for a retry', async () => {
      const vendor = await fake('cohere')
      vendor.faults.push({ status: 503, headers: { 'retry-after': '0' } })
      const error = await failureOf(
        clientFor(vendor, 'cohere', { retry: false }).rerank({ query, documents }),
      )
      expect(error).toMatchObject({ code: 'overloaded', retryAfterMs: 0 })
      expect(vendor.requests).toHaveLength(1)
    })
  })

  describe('connections that never opened, and aborts', () => {
    it('a refused connection is a network_error, retried (nothing was sent)', async () => {
      const server = createServer()
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      await new Promise((resolve) => server.close(resolve))
      const retries: unknown[] = []
      const logger: Logger = { debug: (_m, fields) => retries.push(fields), info() {}, warn() {}, error() {} }
      const client = new RerankClient({
        ...transportOptions,
        baseUrl: `http://127.0.0.1:${port}`,
        format: 'native',
        retry: { limit: 2, backoffMs: 1 },
        logger,
      })
      const error = await failureOf(client.rerank({ query, documents }))
      expect(error).toMatchObject({ code: 'network_error', retryable: true })
      expect(error.message).toBe(`Could not reach http://127.0.0.1:${port}/rerank (ECONNREFUSED)`)
      expect(retries).toEqual([
        expect.objectContaining({ code: 'network_error', retry: 1 }),
        expect.objectContaining({ code: 'network_error', retry: 2 }),
      ])
    })

    it('an abort during the wait before a retry ends the call at once', async () => {
      const vendor = await fake('cohere')
      vendor.faults.push({ status: 429, headers: { 'retry-after': '20' } })
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 100)
      const started = Date.now()
      const error = await failureOf(
        clientFor(vendor, 'cohere').rerank({ query, documents }, { signal: controller.signal }),
      )
      expect(error.code).toBe('aborted')
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(vendor.requests).toHaveLength(1)
    })

    it('an abort while the server works is aborted, not a timeout', async () => {
      const vendor = await fake('tei')
      vendor.faults.push({ delayMs: 2_000 })
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 50)
      const error = await failureOf(
        clientFor(vendor, 'tei').rerank({ query, documents }, { signal: controller.signal }),
      )
      expect(error.code).toBe('aborted')
    })
  })

  describe('TEI: batches of the server limit, topN on the client', () => {
    const many = Array.from(
      { length: 70 },
      (_, i) => `${i % 3 === 0 ? 'deep learning' : 'cooking'} note ${i}`,
    )
    const manyExpected = many
      .map((document, index) => ({ index, score: fakeScore(query, document) }))
      .sort((a, b) => b.score - a.score || a.index - b.index)

    it('splits 70 texts into calls of at most 32 and merges them', async () => {
      const vendor = await fake('tei')
      const response = await clientFor(vendor, 'tei').rerank({
        query,
        documents: many,
        topN: 5,
        returnDocuments: true,
      })
      expect(vendor.requests.map((r) => (r.body as { texts: string[] }).texts.length).sort()).toEqual([
        32, 32, 6,
      ])
      expect(response.results).toEqual(
        manyExpected.slice(0, 5).map(({ index, score }) => ({ index, score, document: many[index] })),
      )
      expect(response.results[0]!.score).toBe(0.5)
    })

    it('a server with a lower limit answers 413, and a matching maxBatchSize fixes it', async () => {
      const vendor = await fake('tei', { maxBatchSize: 10 })
      const error = await failureOf(clientFor(vendor, 'tei').rerank({ query, documents: many }))
      expect(error).toMatchObject({ code: 'payload_too_large', upstreamStatus: 413 })
      const fixed = await clientFor(vendor, 'tei', { maxBatchSize: 10 }).rerank({ query, documents: many })
      expect(fixed.results).toEqual(manyExpected)
    })

    it('raw scores are the logits', async () => {
      const vendor = await fake('tei')
      const response = await clientFor(vendor, 'tei').rerank({ query, documents, rawScores: true })
      expect(response.results.map((r) => r.score)).toEqual(
        expected.map((r) => fakeLogit(query, documents[r.index]!)),
      )
      expect((vendor.requests[0]!.body as { raw_scores: boolean }).raw_scores).toBe(true)
    })
  })

  describe('infinity-classify: decoder rerankers behind /classify', () => {
    const qwen = 'Qwen/Qwen3-Reranker-0.6B-seq'
    const mxbai = 'mixedbread-ai/mxbai-rerank-base-v2-seq'

    it.each([qwen, mxbai])(
      '%s: the template from the model name, the score picked by label',
      async (model) => {
        const vendor = await fake('infinity')
        const response = await clientFor(vendor, 'infinity-classify', { model }).rerank({ query, documents })
        expect(response.results).toEqual(expected)
        expect(vendor.requests[0]!.path).toBe('/classify')
        expect((vendor.requests[0]!.body as { model: string }).model).toBe(model)
      },
    )

    it('sends the instruction inside the prompt', async () => {
      const vendor = await fake('infinity')
      const client = clientFor(vendor, 'infinity-classify', { model: qwen, instruction: 'Find papers' })
      await client.rerank({ query, documents })
      await client.rerank({ query, documents, instruction: 'Find recipes' })
      const inputs = vendor.requests.map((r) => (r.body as { input: string[] }).input[0])
      expect(inputs[0]).toContain('<Instruct>: Find papers\n<Query>: deep learning neural networks\n')
      expect(inputs[1]).toContain('<Instruct>: Find recipes\n')
    })

    it('raw scores are the logit difference; single-label conversions are used as they are', async () => {
      const vendor = await fake('infinity')
      const raw = await clientFor(vendor, 'infinity-classify', { model: mxbai }).rerank({
        query,
        documents,
        rawScores: true,
      })
      expect(raw.results.map((r) => r.score)).toEqual(
        expected.map((r) => fakeLogit(query, documents[r.index]!)),
      )
      const single = await fake('infinity', { singleLabel: true })
      const probabilities = await clientFor(single, 'infinity-classify', { model: mxbai }).rerank({
        query,
        documents,
      })
      expect(probabilities.results).toEqual(expected)
    })

    it('clips long documents so the template suffix survives the server truncation', async () => {
      const vendor = await fake('infinity', { maxInputChars: 700 })
      const long = `deep learning neural ${'filler '.repeat(500)}`
      // Unclipped, the server cuts the suffix off and answers its garbage 0.5.
      const unclipped = await clientFor(vendor, 'infinity-classify', {
        model: qwen,
        maxInputChars: 100_000,
      }).rerank({
        query,
        documents: [long],
      })
      expect(unclipped.results[0]!.score).toBe(0.5)
      const clipped = await clientFor(vendor, 'infinity-classify', {
        model: qwen,
        maxInputChars: 700,
      }).rerank({
        query,
        documents: [long],
      })
      expect(clipped.results[0]!.score).toBe(0.75)
      const prompt = (vendor.requests[1]!.body as { input: string[] }).input[0]!
      expect(prompt.length).toBeLessThanOrEqual(700)
      expect(prompt.endsWith('<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n')).toBe(true)
    })

    it('sends at most 2,048 inputs per call', async () => {
      const vendor = await fake('infinity')
      const many = Array.from({ length: 5_000 }, (_, i) =>
        i === 4_321 ? 'deep learning neural networks' : `doc ${i}`,
      )
      const response = await clientFor(vendor, 'infinity-classify', { model: mxbai }).rerank({
        query,
        documents: many,
        topN: 1,
      })
      expect(vendor.requests.map((r) => (r.body as { input: string[] }).input.length).sort()).toEqual([
        2048, 2048, 904,
      ])
      expect(response.results).toEqual([{ index: 4_321, score: 1 }])
    })

    it('needs a template it can name', () => {
      expect(
        () =>
          new RerankClient({
            ...transportOptions,
            baseUrl: 'http://x',
            format: 'infinity-classify',
            model: 'some-bert',
          }),
      ).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'template' }))
    })
  })

  describe('options', () => {
    it.each<[Partial<RerankClientOptions>, string]>([
      [{ baseUrl: 'ftp://example.com' }, 'baseUrl'],
      [{ baseUrl: 'not a url' }, 'baseUrl'],
      [{ format: 'soap' as ClientFormatName }, 'format'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ retry: -1 }, 'retry'],
      [{ maxBatchSize: 0 }, 'maxBatchSize'],
      [{ format: 'infinity-classify', template: 'qwen3-reranker', maxBatchSize: 4_096 }, 'maxBatchSize'],
    ])('refuses %o naming %s', (options, param) => {
      expect(
        () =>
          new RerankClient({
            ...transportOptions,
            baseUrl: 'http://x',
            format: 'cohere',
            ...options,
          }),
      ).toThrow(expect.objectContaining({ code: 'invalid_request', param }))
    })

    it('sends custom headers and the key, to a path under the base URL', async () => {
      const vendor = await fake('cohere', { apiKey: 'k-1' })
      const client = new RerankClient({
        ...transportOptions,
        baseUrl: `${vendor.url}/`,
        format: 'cohere',
        apiKey: 'k-1',
        headers: { 'x-team': 'search' },
      })
      await client.rerank({ query, documents })
      expect(vendor.requests[0]!.headers).toMatchObject({ authorization: 'Bearer k-1', 'x-team': 'search' })
      await client.rerank({ query, documents }, { headers: { 'X-Team': 'ads', 'x-trace': '7' } })
      expect(vendor.requests[1]!.headers).toMatchObject({
        'x-team': 'ads',
        'x-trace': '7',
        authorization: 'Bearer k-1',
      })
      const keyless = clientFor(vendor, 'cohere')
      await expect(keyless.rerank({ query, documents })).rejects.toMatchObject({ code: 'unauthorized' })
      const request: RerankRequest = { query, documents }
      expect(client.url).toBe(`${vendor.url}/v1/rerank`)
      expect(request).toEqual({ query, documents })
    })
  })
}
