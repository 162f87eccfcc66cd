import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import type { Reranker, RerankResponse } from '@rerank-kit/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import { createNodeListener } from './node-http'
import { OverlapReranker } from './test-support/overlap-reranker'

// TEI's compute headers from a real LocalReranker's measured timings (the fixture ONNX model behind node:http),
// and none of them from a reranker that measures nothing. (core is a dev dependency only.)

const model = join(import.meta.dirname, '../../../fixtures/models/tiny-bert-reranker')
const query = 'what causes the seasons on earth'
const documents = [
  'The tilt of the earth axis causes the seasons.',
  'Bananas are a good source of potassium.',
  'In summer the sun is higher in the sky.',
]
const computeHeaders = ['x-tokenization-time', 'x-queue-time', 'x-inference-time', 'x-compute-tokens']

async function listen(reranker: Reranker) {
  const server = createServer(createNodeListener(createRerankHandler({ reranker })))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, close: () => new Promise((resolve) => server.close(resolve)) }
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

/** A header in milliseconds with one decimal, as a number. */
function milliseconds(response: Response, name: string): number {
  const text = response.headers.get(name)
  expect(text, name).toMatch(/^\d+\.\d$/)
  return Number(text)
}

/** `server-timing` as name -> duration, in order. */
function serverTiming(response: Response): [string, number][] {
  return (response.headers.get('server-timing') ?? '').split(', ').map((part) => {
    const match = /^([a-z]+);dur=(\d+\.\d)$/.exec(part)
    expect(match, part).not.toBeNull()
    return [match![1]!, Number(match![2])]
  })
}

describe('compute headers from a LocalReranker', () => {
  let reranker: LocalReranker
  let app: Awaited<ReturnType<typeof listen>>

  beforeAll(async () => {
    reranker = await LocalReranker.create({ models: [{ model, name: 'tiny-bert', workers: 1 }] })
    app = await listen(reranker)
  })
  afterAll(async () => {
    await app.close()
    await reranker.close()
  })

  // Where the format reports tokens, x-compute-tokens is the same count; TEI's bare array reports none.
  // biome-ignore lint/suspicious/noExplicitAny: each family's body is read at its own path
  const routes: [string, string, (body: any) => number | undefined][] = [
    ['/rerank', 'native', (body) => body.usage.total_tokens],
    ['/v1/rerank', 'cohere', (body) => body.meta.tokens.input_tokens],
    ['/tei/rerank', 'tei', () => undefined],
  ]
  it.each(routes)(
    '%s (%s): timing headers that parse and fit in the total',
    async (path, family, tokensOf) => {
      const body = family === 'tei' ? { query, texts: documents } : { model: 'tiny-bert', query, documents }
      const response = await post(`${app.url}${path}`, body)
      expect(response.status).toBe(200)
      const json = await response.json()
      const tokenization = milliseconds(response, 'x-tokenization-time')
      const queue = milliseconds(response, 'x-queue-time')
      const inference = milliseconds(response, 'x-inference-time')
      const total = Number(/^(\d+\.\d)ms$/.exec(response.headers.get('x-response-time') ?? '')?.[1])
      expect(total).toBeGreaterThan(0)
      expect(inference).toBeGreaterThan(0)
      // Each figure is rounded to 0.1 ms on its own: the parts may exceed the total by that rounding.
      expect(tokenization + queue + inference).toBeLessThanOrEqual(total + 0.2)
      expect(serverTiming(response)).toEqual([
        ['tokenization', tokenization],
        ['queue', queue],
        ['inference', inference],
        ['total', total],
      ])
      const tokens = response.headers.get('x-compute-tokens')
      expect(tokens).toMatch(/^\d+$/)
      expect(Number(tokens)).toBeGreaterThan(documents.length)
      const reported = tokensOf(json)
      if (reported !== undefined) expect(Number(tokens)).toBe(reported)
    },
  )

  it('no compute headers on an error answer', async () => {
    const response = await post(`${app.url}/rerank`, { query })
    expect(response.status).toBe(400)
    for (const name of computeHeaders) expect(response.headers.get(name), name).toBeNull()
    expect(serverTiming(response).map(([name]) => name)).toEqual(['total'])
  })
})

describe('compute headers from a reranker that measures nothing', () => {
  let app: Awaited<ReturnType<typeof listen>>
  beforeAll(async () => {
    app = await listen(new OverlapReranker())
  })
  afterAll(() => app.close())

  it('answers with the total and the tokens it reported only, and no empty headers', async () => {
    const response = await post(`${app.url}/rerank`, { query, documents })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { usage: { total_tokens: number } }
    expect(body.usage.total_tokens).toBeGreaterThan(0)
    expect(response.headers.get('x-compute-tokens')).toBe(String(body.usage.total_tokens))
    for (const name of computeHeaders.filter((name) => name !== 'x-compute-tokens')) {
      expect(response.headers.get(name), name).toBeNull()
    }
    const total = serverTiming(response)
    expect(total.map(([name]) => name)).toEqual(['total'])
    expect(response.headers.get('x-response-time')).toBe(`${total[0]![1].toFixed(1)}ms`)
  })
})

describe('compute headers from partial or unusable timings', () => {
  const answering = (timings: Record<string, number>): Reranker => ({
    rerank: async () => ({ results: [{ index: 0, score: 0.5 }], timings }),
  })

  it('sends the parts measured, skips the ones that are not durations', async () => {
    const app = await listen(answering({ queueMs: 1.26, inferenceMs: Number.NaN, tokenizationMs: -1 }))
    try {
      const response = await post(`${app.url}/rerank`, { query, documents: ['a'] })
      expect(response.status).toBe(200)
      expect(response.headers.get('x-queue-time')).toBe('1.3')
      for (const name of ['x-tokenization-time', 'x-inference-time', 'x-compute-tokens']) {
        expect(response.headers.get(name), name).toBeNull()
      }
      expect(serverTiming(response).map(([name]) => name)).toEqual(['queue', 'total'])
    } finally {
      await app.close()
    }
  })
})

describe('headers of answers without timings (a remote backend, a router)', () => {
  const answering = (answer: Partial<RerankResponse>): Reranker => ({
    rerank: async () => ({ results: [{ index: 0, score: 0.5 }], ...answer }),
  })

  it("sends x-compute-tokens from the backend's usage, and a router's deployment id and attempts", async () => {
    const app = await listen(
      answering({ usage: { totalTokens: 17 }, routing: { deployment: 'rerank#1', attempts: 2 } }),
    )
    try {
      const response = await post(`${app.url}/rerank`, { query, documents: ['a'] })
      expect(response.status).toBe(200)
      expect(response.headers.get('x-compute-tokens')).toBe('17')
      expect(response.headers.get('x-rerank-deployment')).toBe('rerank#1')
      expect(response.headers.get('x-rerank-attempts')).toBe('2')
      for (const name of ['x-tokenization-time', 'x-queue-time', 'x-inference-time']) {
        expect(response.headers.get(name), name).toBeNull()
      }
      expect(serverTiming(response).map(([name]) => name)).toEqual(['total'])
      // Neither is ever written into the body.
      expect(JSON.stringify(await response.json())).not.toMatch(/routing|rerank#1/)
    } finally {
      await app.close()
    }
  })

  it('sends a deployment id a header cannot hold percent-encoded, never a 500', async () => {
    const app = await listen(answering({ routing: { deployment: 'tenant é\nid', attempts: 1 } }))
    try {
      const response = await post(`${app.url}/rerank`, { query, documents: ['a'] })
      expect(response.status).toBe(200)
      expect(response.headers.get('x-rerank-deployment')).toBe('tenant%20%C3%A9%0Aid')
    } finally {
      await app.close()
    }
  })
})
