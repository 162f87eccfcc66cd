import { createServer } from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRerankHandler, rerankRoutePaths } from './create-rerank-handler'
import { createNodeListener } from './node-http'
import type { MountedApp } from './test-support/adapter-spec'
import { listening } from './test-support/listening'
import { OverlapReranker } from './test-support/overlap-reranker'

// Random and mutated requests against every POST route of a real server: whatever arrives, the answer is a
// 2xx or a 4xx in the route's format, never a 5xx or a dropped connection, and the server keeps answering.

const fields = [
  'query',
  'documents',
  'texts',
  'top_n',
  'top_k',
  'model',
  'return_documents',
  'rank_fields',
  '__proto__',
]
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.oneof(fc.string(), fc.record({ text: fc.string() })), { maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
)
const jsonBody = fc.oneof(
  fc.jsonValue().map((json) => JSON.stringify(json)),
  fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 6 }).map((body) => JSON.stringify(body)),
  fc
    .record({ query: fc.string(), documents: fc.array(fc.string(), { maxLength: 5 }) })
    .map((body) => JSON.stringify(body)),
)
// Bodies that are not JSON at all, or JSON cut short, or not UTF-8.
const rawBody = fc.oneof(
  jsonBody,
  jsonBody.chain((text) => fc.nat(text.length).map((cut) => text.slice(0, cut))),
  fc.uint8Array({ maxLength: 64 }),
  fc.string({ maxLength: 64 }),
)
const contentType = fc.oneof(
  fc.constant('application/json'),
  fc.constantFrom(
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data',
    '',
  ),
  fc.string({ maxLength: 20 }).filter((text) => /^[\x21-\x7e ]*$/.test(text)),
)
const headerName = fc.constantFrom('x-request-id', 'authorization', 'x-api-key', 'accept', 'x-custom')
const headerValue = fc.string({ maxLength: 40 }).filter((text) => /^[\x20-\x7e]*$/.test(text))

describe('fuzzing every POST route', () => {
  let app: MountedApp
  beforeAll(async () => {
    const handler = createRerankHandler({ reranker: new OverlapReranker(), limits: { maxDocuments: 50 } })
    app = await listening(createServer(createNodeListener(handler, { maxBodyBytes: 64 * 1024 })))
  })
  afterAll(() => app.close())

  it('answers 2xx or 4xx, never 5xx or a dropped connection', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...rerankRoutePaths.post),
        rawBody,
        contentType,
        fc.dictionary(headerName, headerValue, { maxKeys: 3 }),
        async (path, body, type, headers) => {
          const response = await fetch(`${app.url}${path}`, {
            method: 'POST',
            headers: { ...headers, ...(type && { 'content-type': type }) },
            body,
          })
          const text = await response.text()
          expect(response.status, `${path} ${type} ${String(body).slice(0, 80)} -> ${text}`).toBeLessThan(500)
          expect(() => JSON.parse(text)).not.toThrow()
        },
      ),
      { numRuns: 300 },
    )
    expect((await fetch(`${app.url}/health`)).status).toBe(200)
  })
})
