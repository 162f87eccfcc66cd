import { describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import type { PlainRequest } from './handler-types'
import { OverlapReranker } from './test-support/overlap-reranker'

// The signal a rerank call gets for a plain request that carries its own `signal` (every adapter but node:http,
// whose requests are watched without one: node-http.test.ts), with a deadline: one signal for both.

const rerankRequest = (signal?: AbortSignal): PlainRequest => ({
  method: 'POST',
  path: '/rerank',
  headers: { 'content-type': 'application/json' },
  body: { query: 'capital of France', documents: ['Paris is the capital of France.', 'Bananas.'] },
  ...(signal && { signal }),
})

describe("a call's signal with a deadline, over a request's own signal", () => {
  it("aborts with the request's reason when the client goes away", async () => {
    const reranker = new OverlapReranker()
    reranker.delayMs = 5000
    const handler = createRerankHandler({ reranker, requestTimeoutMs: 60_000 })
    const client = new AbortController()
    const answer = handler(rerankRequest(client.signal))
    while (reranker.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    client.abort()
    expect(reranker.calls[0]!.signal!.aborted).toBe(true)
    expect(reranker.calls[0]!.signal!.reason).toBe(client.signal.reason)
    const answered = await answer
    expect([answered.status, (answered.body as { error: { code: string } }).error.code]).toEqual([
      499,
      'aborted',
    ])
  })

  it('is aborted at once when the request was aborted before the call began', async () => {
    const reranker = new OverlapReranker()
    const handler = createRerankHandler({ reranker, requestTimeoutMs: 60_000 })
    const client = new AbortController()
    client.abort()
    await handler(rerankRequest(client.signal))
    expect(reranker.calls[0]!.signal!.aborted).toBe(true)
  })

  it("lets go of the request's signal once the call settled", async () => {
    const reranker = new OverlapReranker()
    const handler = createRerankHandler({ reranker, requestTimeoutMs: 60_000 })
    const client = new AbortController()
    expect((await handler(rerankRequest(client.signal))).status).toBe(200)
    client.abort()
    expect(reranker.calls[0]!.signal!.aborted).toBe(false)
  })

  it('without a request signal: the deadline alone, a TimeoutError, answered 504', async () => {
    const reranker = new OverlapReranker()
    reranker.delayMs = 5000
    const handler = createRerankHandler({ reranker, requestTimeoutMs: 30 })
    const answer = await handler(rerankRequest())
    expect(answer.status).toBe(504)
    expect((reranker.calls[0]!.signal!.reason as DOMException).name).toBe('TimeoutError')
  })
})
