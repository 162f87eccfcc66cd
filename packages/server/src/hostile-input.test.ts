import { createServer } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import type { RerankHandlerOptions } from './handler-types'
import { createNodeListener } from './node-http'
import { describeHostileInput } from './test-support/hostile-input-spec'
import { listening } from './test-support/listening'
import { OverlapReranker } from './test-support/overlap-reranker'
import { fetchBridgeServer, nodeHttpServer } from './test-support/plain-servers'
import { rawExchange } from './test-support/raw-http'

// The hostile-input spec on the two servers of this package (Express, Fastify and Koa run it from their own
// packages), then what only the standalone listener does: its default limits, and what it logs.

describeHostileInput('node:http', nodeHttpServer, { closesRefusedBodies: true })

// The fetch handler behind the same minimal node:http -> Request bridge as adapters.test.ts. The bridge, not
// the handler, owns the connection: it leaves it open.
describeHostileInput('fetch', fetchBridgeServer, {
  closesRefusedBodies: false,
  closesRefusalsBeforeBody: false,
})

async function listen(options: RerankHandlerOptions, maxBodyBytes?: number) {
  const handler = createRerankHandler(options)
  return listening(createServer(createNodeListener(handler, maxBodyBytes ? { maxBodyBytes } : {})))
}

describe('node:http listener defaults under hostile input', () => {
  it('refuses millions of tiny documents under the default 10 MiB body limit with a 413', async () => {
    const reranker = new OverlapReranker()
    const app = await listen({ reranker, limits: { maxDocuments: 1000 } })
    try {
      // 3 million empty strings fit in 9 MB: the document limit, not the body limit, refuses them, and
      // the reranker never sees them.
      const body = `{"query":"q","documents":[${Array(3_000_000).fill('""').join(',')}]}`
      const answer = await rawExchange(app.url, {
        head: `POST /v1/rerank HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close`,
        body,
      })
      expect(answer.status).toBe(413)
      expect(JSON.parse(answer.body)).toEqual({
        message: 'Too many documents: 3000000, the limit is 1000 per request',
      })
      expect(reranker.calls).toHaveLength(0)
      // Over the default body limit, the declared length alone is refused before a byte of body is read.
      const over = await rawExchange(app.url, {
        head: `POST /rerank HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${11 * 2 ** 20}`,
      })
      expect(over.status).toBe(413)
      expect(JSON.parse(over.body).error.message).toBe(
        'Request body is 11534336 bytes, over the limit of 10485760',
      )
      expect(over.closedByServer).toBe(true)
    } finally {
      await app.close()
    }
  })

  it('never writes a key to the log, /stats, /metrics, error bodies or headers', async () => {
    const keys = ['sk-live-0123456789abcdef', 'second-key-with-more-length-zzzzzzzz']
    const wrong = ['sk-live-0123456789abcdeX', 'sk-live-0123456789abcdef-but-longer', 'totally-wrong']
    const logged: string[] = []
    const record = (message: string, fields?: Record<string, unknown>) =>
      void logged.push(`${message} ${JSON.stringify(fields ?? {})}`)
    const logger = { debug: record, info: record, warn: record, error: record }
    // A reranker that fails now and then, so error paths that log are exercised too.
    const reranker = Object.assign(new OverlapReranker(), {
      stats: () => ({ calls: 1, note: 'stats are the reranker own' }),
    })
    const failing = reranker.rerank.bind(reranker)
    let calls = 0
    reranker.rerank = async (request, options) => {
      calls++
      if (calls % 2 === 0) throw new TypeError('the engine broke')
      return failing(request, options)
    }
    // The second key has a budget of 2 a minute, so 429s (and the limiter's messages) are scanned too.
    const keyRateLimits = { requestsPerMinute: 10_000, perKey: { [keys[1]!]: 2 } }
    const app = await listen({ reranker, apiKeys: keys, logger, keyRateLimits })
    const seen: string[] = []
    try {
      const presentations = (value: string): Record<string, string>[] => [
        { authorization: `Bearer ${value}` },
        { 'x-api-key': value },
        { authorization: `Basic ${value}` },
      ]
      const body = JSON.stringify({ query: 'capital of France', documents: ['Paris'] })
      for (const value of [...keys, ...wrong]) {
        for (const headers of presentations(value)) {
          for (const path of ['/rerank', '/v1/rerank', '/v2/rerank', '/api/v1/rerank', '/nope']) {
            for (const type of ['application/json', 'text/plain']) {
              const response = await fetch(`${app.url}${path}`, {
                method: 'POST',
                headers: { ...headers, 'content-type': type, 'x-request-id': 'trace-1' },
                body,
              })
              seen.push(
                `${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`,
              )
            }
          }
          for (const path of ['/stats', '/lb/stats', '/metrics', '/v1/models', '/openapi.json', '/ready']) {
            const response = await fetch(`${app.url}${path}`, { headers })
            seen.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`)
          }
        }
      }
      const metrics = await fetch(`${app.url}/metrics`, { headers: { 'x-api-key': keys[0]! } })
      seen.push(await metrics.text())
    } finally {
      await app.close()
    }
    // Every branch ran: successes, 401s, 429s from the key budget, logged 500s, 400s and 404s.
    const statuses = new Set(seen.map((line) => line.slice(0, 3)))
    for (const status of ['200', '400', '401', '404', '429', '500']) expect(statuses).toContain(status)
    expect(logged.some((line) => line.includes('the engine broke'))).toBe(true)
    for (const secret of [...keys, ...wrong]) {
      for (const line of [...logged, ...seen]) expect(line).not.toContain(secret)
    }
  })
})
