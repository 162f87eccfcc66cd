import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RerankClient } from '@rerank-kit/client'
import { nodeHttpFetch } from '@rerank-kit/client/node'
import { RerankError, type Reranker, rankScores } from '@rerank-kit/protocol'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { afterEach, describe, expect, it } from 'vitest'
import { Router } from './router'
import { mulberry32 } from './test-support/test-prng'

// Backends that fail after the answer has begun: status and headers sent, then part of the body, then the
// connection dies (the process crashed) or nothing more comes (it hangs). router-chaos.test.ts covers failures
// before the answer (500, 429, a reset with no answer, a hang before the headers, a complete but malformed
// body). Here the client is already reading the body: it must still end the call, with a clear error kind the
// router can fail over on, and with either fetch (the platform's, or keep-alive node:http).

const documents = ['Bananas.', 'Paris is the capital of France.', 'Paris.']
const expectedResults = [
  { index: 1, score: 0.75 },
  { index: 2, score: 0.75 },
  { index: 0, score: 0.25 },
]
const scored: Reranker = {
  async rerank(request) {
    const scores = request.documents.map((document) => (String(document).includes('Paris') ? 0.75 : 0.25))
    return { model: 'stub', results: rankScores(request, scores) }
  },
}
// What a healthy backend would send: the faulty ones send its first half.
const fullBody = JSON.stringify({
  model: 'stub',
  results: expectedResults.map(({ index, score }) => ({ index, relevance_score: score })),
})

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Reads the request, then sends 200, the headers of the full answer and half of its body. */
function halfAnswer(then: (res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(fullBody),
      })
      res.write(fullBody.slice(0, fullBody.length >> 1), () => then(res))
    })
  }
}

async function startBackends() {
  const received = { dies: 0, stalls: 0 }
  const dies = await listen((req, res) => {
    received.dies++
    // The process dies mid-body: the connection closes with the body half sent.
    halfAnswer(() => res.socket?.destroy())(req, res)
  })
  const stalls = await listen((req, res) => {
    received.stalls++
    // Hangs mid-body: the rest never comes (closeAllConnections ends it after the test).
    halfAnswer(() => {})(req, res)
  })
  const healthy = await listen(createNodeListener(createRerankHandler({ reranker: scored })))
  return { dies, stalls, healthy, received }
}

describe.each([
  ['the platform fetch', undefined],
  ['nodeHttpFetch', nodeHttpFetch()],
] as const)('a backend failing mid-body, through %s', (_, fetch) => {
  const client = (baseUrl: string, timeoutMs = 10_000) =>
    new RerankClient({ baseUrl, format: 'native', retry: false, timeoutMs, ...(fetch && { fetch }) })

  it('the client ends the call: network_error when the connection dies, timeout when the body stalls', async () => {
    const { dies, stalls } = await startBackends()
    const died = await client(dies)
      .rerank({ query: 'capital of France', documents })
      .catch((e: unknown) => e)
    expect(RerankError.isInstance(died)).toBe(true)
    expect((died as RerankError).code).toBe('network_error')
    expect((died as RerankError).message).toMatch(/^Could not reach http:\/\/127\.0\.0\.1:\d+\/rerank/)
    const stalled = await client(stalls, 300)
      .rerank({ query: 'capital of France', documents })
      .catch((e: unknown) => e)
    expect(RerankError.isInstance(stalled)).toBe(true)
    expect((stalled as RerankError).code).toBe('timeout')
    expect((stalled as RerankError).message).toBe('No answer from the reranker within 300 ms')
  })

  it('100 concurrent requests through the router: each answered exactly by the healthy backend', async () => {
    const { dies, stalls, healthy, received } = await startBackends()
    const router = new Router({
      deployments: [
        { id: 'dies', modelName: 'rerank', reranker: client(dies) },
        { id: 'stalls', modelName: 'rerank', reranker: client(stalls, 300) },
        { id: 'healthy', modelName: 'rerank', reranker: client(healthy) },
      ],
      numRetries: 2,
      retryDelayMs: 5,
      cooldownTimeMs: 200,
      random: mulberry32(8),
    })
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, (_, n) =>
        router.rerank({ model: 'rerank', query: `capital ${n}`, documents }),
      ),
    )
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([])
    for (const outcome of outcomes) {
      expect((outcome as PromiseFulfilledResult<{ results: unknown }>).value.results).toEqual(expectedResults)
    }
    const stats = await router.stats()
    const byId = Object.fromEntries(stats.deployments.map((deployment) => [deployment.id, deployment]))
    // The faults were in the path, each counted under its own kind, and no call was left open.
    expect(received.dies).toBeGreaterThan(0)
    expect(received.stalls).toBeGreaterThan(0)
    expect(byId.dies!.failures).toEqual({ network_error: received.dies })
    // Every call to the stalling backend timed out; on a busy machine a few time out before it reads them.
    expect(Object.keys(byId.stalls!.failures)).toEqual(['timeout'])
    expect(byId.stalls!.failures.timeout).toBeGreaterThanOrEqual(received.stalls)
    expect(byId.healthy!.successes).toBe(100)
    expect(stats.deployments.map((deployment) => deployment.inFlight)).toEqual([0, 0, 0])
  })
})
