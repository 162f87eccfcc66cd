import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import { createNodeListener } from './node-http'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field by the assertions
const bodyOf = async (response: Response): Promise<any> => response.json()

// A real LocalReranker on a fixture ONNX model behind the node:http listener: scores through HTTP equal the
// in-process scores, in every route family. (core is a dev dependency only: the server never imports it.)

const model = join(import.meta.dirname, '../../../fixtures/models/tiny-bert-reranker')
const query = 'what causes the seasons on earth'
const documents = [
  'The tilt of the earth axis causes the seasons.',
  'Bananas are a good source of potassium.',
  'In summer the sun is higher in the sky.',
]

describe('HTTP in front of a LocalReranker', () => {
  let reranker: LocalReranker
  let url: string
  let close: () => Promise<unknown>

  beforeAll(async () => {
    reranker = await LocalReranker.create({ models: [{ model, name: 'tiny-bert', workers: 1 }] })
    const server = createServer(createNodeListener(createRerankHandler({ reranker })))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => new Promise((resolve) => server.close(resolve))
  })
  afterAll(async () => {
    await close()
    await reranker.close()
  })

  it('scores through every route equal the in-process scores', async () => {
    const local = await reranker.rerank({ query, documents })
    const expected = local.results.map((result) => ({ index: result.index, relevance_score: result.score }))
    for (const path of ['/rerank', '/v1/rerank', '/v2/rerank', '/api/v1/rerank']) {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny-bert', query, documents, return_documents: false }),
      })
      expect(response.status, path).toBe(200)
      const body = await bodyOf(response)
      expect(body.results, path).toEqual(expected)
    }
    expect(local.results[0]!.score).toBeGreaterThan(0)
    expect(local.results[0]!.score).toBeLessThan(1)
  })

  it('serves the loaded models and readiness', async () => {
    expect((await bodyOf(await fetch(`${url}/v1/models`))).data.map((m: { id: string }) => m.id)).toEqual([
      'tiny-bert',
    ])
    expect((await fetch(`${url}/ready`)).status).toBe(200)
    const stats = await bodyOf(await fetch(`${url}/stats`))
    expect(stats['tiny-bert'].requests).toBeGreaterThan(0)
  })
})
