import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RerankError } from '@rerank-kit/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeHttpFetch } from './node'
import { redactUrl } from './redact-url'
import { RerankClient } from './rerank-client'
import { defaultResponseLimit } from './response-limit'
import { startFakeVendor } from './test-support/fake-vendors'
import { startHugeAnswerServer } from './test-support/huge-answer-server'

// A backend's answer is read no further than a bound relative to the request, on both transports: the
// platform's fetch (a stream the client reads itself) and nodeHttpFetch (which stops while it reads). The
// fake streams 200 MB from one reused buffer, so the only memory that could grow is the client's.

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

const request = { query: 'red apple', documents: ['red apple pie', 'green pear', 'apple'] }

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => {
      expect(RerankError.isInstance(error)).toBe(true)
      return error as RerankError
    },
  )

const transports = [
  ['platform fetch', undefined],
  ['nodeHttpFetch', nodeHttpFetch()],
] as const

describe('an answer larger than the bound', () => {
  for (const [name, fetch] of transports) {
    for (const declareLength of [false, true]) {
      it(`${name}, ${declareLength ? 'declared' : 'chunked'} 200 MB: fails early, RSS bounded`, async () => {
        const huge = await startHugeAnswerServer(200 * 1024 * 1024, { declareLength })
        closers.push(() => huge.close())
        const client = new RerankClient({
          baseUrl: huge.url,
          format: 'tei',
          retry: false,
          ...(fetch && { fetch }),
        })
        const rssBefore = process.memoryUsage().rss
        const started = performance.now()
        const error = await failure(client.rerank(request))
        expect(performance.now() - started).toBeLessThan(5_000)
        expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024)
        const limit = defaultResponseLimit(
          3,
          JSON.stringify({ query: request.query, texts: request.documents }).length,
        )
        expect([error.code, error.status, error.retryable]).toEqual(['upstream_error', 502, true])
        expect(error.message).toMatch(/^The reranker's answer is larger than \d+ bytes$/)
        expect(Number(/(\d+) bytes/.exec(error.message)?.[1])).toBeGreaterThanOrEqual(limit)
        // Reading stopped at the bound: the fake got no further than the socket buffers allow.
        expect(huge.sent).toBeLessThan(24 * 1024 * 1024)
      })
    }
  }

  it('honours maxResponseBytes, and answers within it are read as before', async () => {
    const vendor = await startFakeVendor('tei')
    closers.push(() => vendor.close())
    for (const [, fetch] of transports) {
      const small = new RerankClient({
        baseUrl: vendor.url,
        format: 'tei',
        retry: false,
        maxResponseBytes: 20,
        ...(fetch && { fetch }),
      })
      const error = await failure(small.rerank(request))
      expect(error.message).toBe("The reranker's answer is larger than 20 bytes")
      const roomy = new RerankClient({
        baseUrl: vendor.url,
        format: 'tei',
        retry: false,
        ...(fetch && { fetch }),
      })
      expect((await roomy.rerank(request)).results.map((result) => result.index)).toEqual([0, 2, 1])
    }
  })
})

describe('URLs in messages and logs', () => {
  it('redactUrl drops user info and the query string', () => {
    expect(redactUrl('https://user:sk-1@api.example.com:8443/v1/rerank?api_key=sk-2#x')).toBe(
      'https://***@api.example.com:8443/v1/rerank?***',
    )
    expect(redactUrl('http://127.0.0.1:8080/rerank')).toBe('http://127.0.0.1:8080/rerank')
    expect(redactUrl('not a url')).toBe('[unparseable URL]')
  })

  it('a refused connection names the redacted URL and keeps the system error in its cause', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise((resolve) => server.close(resolve))
    for (const [, fetch] of transports) {
      const client = new RerankClient({
        baseUrl: `http://127.0.0.1:${port}`,
        // A key in the query string, as some gateways take it.
        path: '/rerank?api_key=sk-secret-2',
        format: 'tei',
        retry: false,
        ...(fetch && { fetch }),
      })
      const error = await failure(client.rerank(request))
      expect(error.code).toBe('network_error')
      expect(error.message).toBe(`Could not reach http://127.0.0.1:${port}/rerank?*** (ECONNREFUSED)`)
      expect(String(error.cause)).toContain('ECONNREFUSED')
      expect(String(error.cause)).not.toBe('TypeError: fetch failed')
    }
  })
})
