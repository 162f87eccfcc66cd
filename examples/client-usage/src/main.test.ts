import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureModelPath, killExamples, runExample } from '../../test-support/run-example'

// The documents of src/main.ts, in order (the script prints each result as "score  [index] document").
const query = 'What is the capital of France?'
const documents = [
  'Berlin is the capital of Germany.',
  'Paris is the capital and largest city of France.',
  'Bananas are rich in potassium.',
  'France is a country in Western Europe.',
]
const exampleDir = join(import.meta.dirname, '..')

let reference: LocalReranker
let expectedLines: string[]
beforeAll(async () => {
  reference = await LocalReranker.create({
    models: [{ model: fixtureModelPath, name: 'tiny-bert-reranker' }],
  })
  const { results } = await reference.rerank({ query, documents, topN: 3 })
  expectedLines = results.map(({ index, score }) => `  ${score.toFixed(6)}  [${index}] ${documents[index]}`)
}, 60_000)
afterAll(async () => {
  killExamples()
  await reference?.close()
})

/** Runs the script to its end (exit 0) and checks both rankings and the error line; returns its output. */
async function runAndCheck(args: string[]): Promise<string> {
  const script = runExample(exampleDir, args)
  expect(await script.exited, script.output()).toBe(0)
  const output = script.output()
  for (const format of ['native', 'cohere']) {
    expect(output).toContain([`${format}: top 3 of 4`, ...expectedLines].join('\n'))
  }
  expect(output).toMatch(/^error: model_not_found \(HTTP 404\): Model "no-such-model" is not served here/m)
  return output
}

describe('client-usage', () => {
  it('starts its own server, prints both rankings with the in-process scores and the error code', async () => {
    const output = await runAndCheck([])
    expect(output).toMatch(/^started a rerank-kit server at http:\/\/127\.0\.0\.1:\d+$/m)
  }, 90_000)

  it('uses the server whose URL it is given', async () => {
    const server = createServer(createNodeListener(createRerankHandler({ reranker: reference })))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const output = await runAndCheck([`http://127.0.0.1:${(server.address() as AddressInfo).port}`])
      expect(output).not.toContain('started a rerank-kit server')
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }, 90_000)
  it('sends RERANKER_API_KEY to a server that wants a key, and says in one line when it is missing', async () => {
    const handler = createRerankHandler({ reranker: reference, apiKeys: ['example-key'] })
    const server = createServer(createNodeListener(handler))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const keyed = runExample(exampleDir, [url], { RERANKER_API_KEY: 'example-key' })
      expect(await keyed.exited, keyed.output()).toBe(0)
      expect(keyed.output()).toContain(['native: top 3 of 4', ...expectedLines].join('\n'))

      const keyless = runExample(exampleDir, [url], { RERANKER_API_KEY: '' })
      expect(await keyless.exited, keyless.output()).toBe(1)
      expect(keyless.output().trim()).toBe(
        `${url}: unauthorized (HTTP 401): A valid API key is required (set RERANKER_API_KEY to the server's key)`,
      )
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }, 90_000)

  it('says in one line that a server is down, without claiming an HTTP answer', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((resolve) => closed.close(resolve))
    const script = runExample(exampleDir, [url])
    expect(await script.exited, script.output()).toBe(1)
    expect(script.output().trim()).toBe(`${url}: network_error: Could not reach ${url}/rerank (ECONNREFUSED)`)
  }, 90_000)
})
