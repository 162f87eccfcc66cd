import { afterEach, describe, expect, it } from 'vitest'
import {
  type FakeVendor,
  type FakeVendorKind,
  type FakeVendorOptions,
  fakeLogit,
  fakeScore,
  startFakeVendor,
} from './fake-vendors'

// Self-test of the fakes: if these drift from api-formats.md, every client test built on them lies.

const started: FakeVendor[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((vendor) => vendor.close()))
})

async function fake(kind: FakeVendorKind, options?: FakeVendorOptions): Promise<FakeVendor> {
  const vendor = await startFakeVendor(kind, options)
  started.push(vendor)
  return vendor
}

async function post(vendor: FakeVendor, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${vendor.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) }
}

const query = 'deep learning'
const documents = ['learning rocks', 'deep learning is fun', 'cooking pasta']

// The two decoder prompt templates of api-formats.md, built by hand like a client would.
const qwenPrompt = (q: string, d: string) =>
  '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct ' +
  'provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n' +
  '<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n' +
  `<Query>: ${q}\n<Document>: ${d}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`
const mxbaiPrompt = (q: string, d: string) =>
  '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
  `<|im_start|>user\nquery: ${q}\ndocument: ${d}\nYou are a search relevance expert who evaluates how well ` +
  'documents match search queries. For each query-document pair, carefully analyze the semantic relationship ' +
  'between them, then provide your binary relevance judgment (0 for not relevant, 1 for relevant).\n' +
  'Relevance:<|im_end|>\n<|im_start|>assistant\n'

describe('fakeScore / fakeLogit', () => {
  it('is the fraction of distinct query words found in the document', () => {
    expect(fakeScore('deep learning', 'deep learning is fun')).toBe(1)
    expect(fakeScore('Deep learning', 'learning rocks')).toBe(0.5)
    expect(fakeScore('deep deep', 'Deep-sea')).toBe(1)
    expect(fakeScore('café', 'Le CAFÉ')).toBe(1)
    expect(fakeScore('', 'anything')).toBe(0)
    expect(fakeScore('x', '')).toBe(0)
  })

  it('logits are clamped to p in [0.01, 0.99] so they stay finite', () => {
    expect(fakeLogit(query, 'deep learning')).toBeCloseTo(Math.log(99))
    expect(fakeLogit(query, 'nothing')).toBeCloseTo(-Math.log(99))
    expect(fakeLogit(query, 'learning')).toBe(0)
  })
})

describe('tei', () => {
  it('answers a bare array sorted by score, text only on request, timing headers', async () => {
    const tei = await fake('tei')
    const plain = await post(tei, '/rerank', { query, texts: documents })
    expect(plain.status).toBe(200)
    expect(plain.headers.get('x-compute-time')).not.toBeNull()
    expect(plain.json()).toEqual([
      { index: 1, score: 1 },
      { index: 0, score: 0.5 },
      { index: 2, score: 0 },
    ])
    const withText = await post(tei, '/rerank', {
      query,
      texts: documents,
      return_text: true,
      raw_scores: true,
    })
    expect(withText.json()[0]).toEqual({
      index: 1,
      score: fakeLogit(query, 'deep learning is fun'),
      text: 'deep learning is fun',
    })
  })

  it('answers TEI error bodies: empty 400, batch over the limit 413, bad body 422, unknown path 404', async () => {
    const tei = await fake('tei', { maxBatchSize: 2 })
    const empty = await post(tei, '/rerank', { query, texts: [] })
    expect([empty.status, empty.json().error_type]).toEqual([400, 'empty'])
    const tooMany = await post(tei, '/rerank', { query, texts: documents })
    expect(tooMany.status).toBe(413)
    expect(tooMany.json()).toEqual({
      error: 'batch size 3 > maximum allowed batch size 2',
      error_type: 'validation',
    })
    const bad = await post(tei, '/rerank', 'not json')
    expect([bad.status, bad.json().error_type]).toEqual([422, 'validation'])
    expect(tei.requests[2]?.body).toBe('not json')
    expect((await post(tei, '/embed', {})).status).toBe(404)
  })
})

describe('infinity', () => {
  it('/rerank: document is a bare string or null, cut to top_n, usage counts characters', async () => {
    const infinity = await fake('infinity')
    const body = (await post(infinity, '/rerank', { model: 'm', query, documents, top_n: 2 })).json()
    expect(body).toMatchObject({
      object: 'rerank',
      model: 'm',
      results: [
        { relevance_score: 1, index: 1, document: null },
        { relevance_score: 0.5, index: 0, document: null },
      ],
      usage: { prompt_tokens: 3 * query.length + documents.join('').length },
    })
    expect(typeof body.id).toBe('string')
    expect(typeof body.created).toBe('number')
    const withDocs = await post(infinity, '/rerank', { query, documents, return_documents: true })
    expect(withDocs.json().results[0].document).toBe('deep learning is fun')
  })

  it('/classify: labels by model, entries sorted by score, raw scores are logits', async () => {
    const infinity = await fake('infinity')
    const qwen = await post(infinity, '/classify', {
      model: 'Qwen/Qwen3-Reranker-0.6B-seq',
      input: [qwenPrompt(query, 'learning rocks'), qwenPrompt(query, 'cooking pasta')],
    })
    expect(qwen.json()).toMatchObject({
      object: 'classify',
      data: [
        [
          { score: 0.5, label: 'yes' },
          { score: 0.5, label: 'no' },
        ],
        [
          { score: 1, label: 'no' },
          { score: 0, label: 'yes' },
        ],
      ],
    })
    const mxbai = await post(infinity, '/classify', {
      model: 'mixedbread-ai/mxbai-rerank-base-v2-seq',
      input: [mxbaiPrompt(query, 'deep learning is fun')],
      raw_scores: true,
    })
    expect(mxbai.json().data).toEqual([
      [
        { score: fakeLogit(query, 'deep learning is fun'), label: '1' },
        { score: 0, label: '0' },
      ],
    ])
  })

  it('/classify: a prompt whose tail was truncated scores 0.5; a clipped document does not', async () => {
    const prompt = qwenPrompt(query, 'deep learning is fun')
    const infinity = await fake('infinity', { maxInputChars: prompt.length - 1 })
    const cut = await post(infinity, '/classify', { model: 'qwen3', input: [prompt] })
    expect(cut.json().data[0]).toContainEqual({ score: 0.5, label: 'yes' })
    const clipped = await post(infinity, '/classify', {
      model: 'qwen3',
      input: [qwenPrompt(query, 'deep learning')],
    })
    expect(clipped.json().data[0][0]).toEqual({ score: 1, label: 'yes' })
    // The wrong template for the model is noise too.
    const wrong = await post(infinity, '/classify', {
      model: 'qwen3',
      input: [mxbaiPrompt(query, 'deep learning')],
    })
    expect(wrong.json().data[0]).toContainEqual({ score: 0.5, label: 'yes' })
  })

  it('/classify: single-label conversions, the 2048 input limit, OpenAI-style errors', async () => {
    const single = await fake('infinity', { singleLabel: true })
    const one = await post(single, '/classify', { model: 'mxbai', input: [mxbaiPrompt(query, 'learning')] })
    expect(one.json().data).toEqual([[{ score: 0.5, label: 'LABEL_0' }]])
    const tooMany = await post(single, '/classify', { model: 'mxbai', input: Array(2049).fill('x') })
    expect(tooMany.status).toBe(400)
    expect(tooMany.json().error).toMatchObject({ type: 'invalid_request_error', param: null, code: 400 })
  })
})

describe('cohere', () => {
  it('v1 scores objects on rank_fields, returns documents only when asked', async () => {
    const cohere = await fake('cohere')
    const docs = [{ text: 'deep learning', title: 'cooking' }, 'learning']
    const ranked = await post(cohere, '/v1/rerank', { query, documents: docs, rank_fields: ['title'] })
    expect(ranked.json()).toMatchObject({
      results: [
        { index: 1, relevance_score: 0.5 },
        { index: 0, relevance_score: 0 },
      ],
      meta: { api_version: { version: '1' }, billed_units: { search_units: 1 } },
    })
    expect(ranked.json().results[0]).not.toHaveProperty('document')
    const withDocs = await post(cohere, '/v1/rerank', {
      query,
      documents: docs,
      return_documents: true,
      top_n: 1,
    })
    expect(withDocs.json().results).toEqual([{ index: 0, relevance_score: 1, document: docs[0] }])
  })

  it('v2 requires a model and answers version "2"; errors are {message}', async () => {
    const cohere = await fake('cohere')
    const missing = await post(cohere, '/v2/rerank', { query, documents })
    expect([missing.status, typeof missing.json().message]).toEqual([400, 'string'])
    const ok = await post(cohere, '/v2/rerank', { model: 'rerank-v3.5', query, documents })
    expect(ok.json().meta.api_version.version).toBe('2')
  })
})

describe('jina, voyage, mixedbread', () => {
  it('jina returns {text} documents by default', async () => {
    const jina = await fake('jina')
    const body = (await post(jina, '/v1/rerank', { model: 'j', query, documents, top_n: 1 })).json()
    expect(body).toEqual({
      model: 'j',
      usage: { total_tokens: expect.any(Number) },
      results: [{ index: 1, document: { text: 'deep learning is fun' }, relevance_score: 1 }],
    })
  })

  it('voyage cuts to top_k and returns the bare document string', async () => {
    const voyage = await fake('voyage')
    const body = (
      await post(voyage, '/v1/rerank', { model: 'v', query, documents, top_k: 2, return_documents: true })
    ).json()
    expect(body).toEqual({
      object: 'list',
      data: [
        { index: 1, relevance_score: 1, document: 'deep learning is fun' },
        { index: 0, relevance_score: 0.5, document: 'learning rocks' },
      ],
      model: 'v',
      usage: { total_tokens: expect.any(Number) },
    })
  })

  it('mixedbread answers {index, score, input?}; errors are {detail}', async () => {
    const mixedbread = await fake('mixedbread')
    const body = (
      await post(mixedbread, '/v1/reranking', {
        model: 'm',
        query,
        input: documents,
        top_k: 1,
        return_input: true,
      })
    ).json()
    expect(body.data).toEqual([{ index: 1, score: 1, input: 'deep learning is fun' }])
    expect(body.usage).toEqual({ prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) })
    const notFound = await post(mixedbread, '/v1/rerank', {})
    expect([notFound.status, typeof notFound.json().detail]).toEqual([404, 'string'])
  })
})

describe('faults and auth', () => {
  it('records every request, then consumes faults in order', async () => {
    const jina = await fake('jina')
    jina.faults.push(
      { status: 429, headers: { 'retry-after': '1' }, message: 'slow down' },
      { malformedJson: true },
    )
    const request = { model: 'j', query, documents }
    const limited = await post(jina, '/v1/rerank', request)
    expect([limited.status, limited.headers.get('retry-after'), limited.json()]).toEqual([
      429,
      '1',
      { detail: 'slow down' },
    ])
    const malformed = await post(jina, '/v1/rerank', request)
    expect(malformed.status).toBe(200)
    expect(() => malformed.json()).toThrow()
    expect((await post(jina, '/v1/rerank', request)).status).toBe(200)
    expect(jina.requests.map((r) => r.body)).toEqual([request, request, request])
    expect(jina.faults).toEqual([])
  })

  it('destroy gives a fetch failure; delay slows a success; body overrides the answer', async () => {
    const tei = await fake('tei')
    tei.faults.push({ destroy: true }, { delayMs: 150 }, { body: { wrong: 'shape' } }, { status: 503 })
    await expect(post(tei, '/rerank', { query, texts: documents })).rejects.toThrow('fetch failed')
    const started = Date.now()
    expect((await post(tei, '/rerank', { query, texts: documents })).status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect((await post(tei, '/rerank', { query, texts: documents })).json()).toEqual({ wrong: 'shape' })
    const unhealthy = await post(tei, '/rerank', { query, texts: documents })
    expect([unhealthy.status, unhealthy.json().error_type]).toEqual([503, 'unhealthy'])
  })

  it('options.fault: a rule for every request the queue does not cover, given the request and its number', async () => {
    const tei = await fake('tei', {
      fault: (request, number) =>
        (request.body as { query?: string }).query === 'fail me' || number === 2
          ? { status: 500 }
          : undefined,
    })
    tei.faults.push({ status: 503 })
    const statuses: number[] = []
    for (const q of [query, query, query, 'fail me', query]) {
      statuses.push((await post(tei, '/rerank', { query: q, texts: documents })).status)
    }
    // The queued 503 first, then the rule: request number 2 and the marked query fail, the rest pass.
    expect(statuses).toEqual([503, 200, 500, 500, 200])
  })

  it('apiKey: a missing or wrong bearer token gets 401 in the vendor format', async () => {
    const cohere = await fake('cohere', { apiKey: 'secret' })
    const request = { query, documents }
    const missing = await post(cohere, '/v1/rerank', request)
    expect([missing.status, typeof missing.json().message]).toEqual([401, 'string'])
    const wrong = await post(cohere, '/v1/rerank', request, { authorization: 'Bearer nope' })
    expect(wrong.status).toBe(401)
    const ok = await post(cohere, '/v1/rerank', request, { authorization: 'Bearer secret' })
    expect(ok.status).toBe(200)
    expect(cohere.requests[2]?.headers.authorization).toBe('Bearer secret')
  })
})
