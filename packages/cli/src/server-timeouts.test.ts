import { createServer } from 'node:http'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { afterEach, describe, expect, it } from 'vitest'
import { listening } from '../../server/src/test-support/listening'
import { OverlapReranker } from '../../server/src/test-support/overlap-reranker'
import { rawExchange } from '../../server/src/test-support/raw-http'
import { serverTimeouts } from './server-timeouts'
import { loadSettings, SettingsError } from './settings'
import { fixtureModel, killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// Slow clients against the standalone server's node:http settings: a client that sends its headers a byte at a
// time, forever, and one whose body trickles. Both must be answered 408 and closed, not held open; a slow
// answer (long inference) must not be cut. Then the same through `rerank-kit serve` itself.

const request = JSON.stringify({ query: 'capital of France', documents: ['Paris is the capital of France.'] })

async function start(
  timeouts: { headersTimeout: number; bodyTimeout: number },
  reranker = new OverlapReranker(),
) {
  const handler = createRerankHandler({ reranker })
  return listening(createServer(serverTimeouts(timeouts), createNodeListener(handler)))
}

/** Headers that never end: one more byte of a header value every 50 ms. */
const slowHeaders = (path: string) => ({
  head: `POST ${path} HTTP/1.1\r\nhost: localhost\r\nx-slow: `,
  unfinished: true,
  stream: { chunk: 'a', everyMs: 50 },
})

/** Complete headers announcing a 10 kB body that comes one byte every 50 ms. */
const slowBody = (path: string, extra: string[] = []) => ({
  head: [
    `POST ${path} HTTP/1.1`,
    'host: localhost',
    'content-type: application/json',
    'content-length: 10000',
    ...extra,
  ].join('\r\n'),
  stream: { chunk: ' ', everyMs: 50 },
})

describe('settings for slow clients and key budgets', () => {
  it('default to 10 s for headers, 30 s for a whole request, and no key budget', () => {
    const settings = loadSettings({}, [], '/nonexistent/.env')
    expect(settings).toMatchObject({ headersTimeout: 10_000, bodyTimeout: 30_000 })
    expect(settings.keyRateLimit).toBeUndefined()
    expect(
      loadSettings(
        { RERANKER_KEY_RATE_LIMIT: '60' },
        ['--headers-timeout', '500', '--body-timeout=900'],
        '/nonexistent/.env',
      ),
    ).toMatchObject({ keyRateLimit: 60, headersTimeout: 500, bodyTimeout: 900 })
  })

  it('refuse a headers timeout past the whole request, and values that are not positive integers', () => {
    expect(() => loadSettings({}, ['--headers-timeout', '40000'], '/nonexistent/.env')).toThrowError(
      new SettingsError('RERANKER_HEADERS_TIMEOUT (40000) must not exceed RERANKER_BODY_TIMEOUT (30000)'),
    )
    for (const [name, value] of [
      ['RERANKER_BODY_TIMEOUT', '0'],
      ['RERANKER_HEADERS_TIMEOUT', '1.5'],
      ['RERANKER_KEY_RATE_LIMIT', '-1'],
    ]) {
      expect(() => loadSettings({ [name!]: value }, [], '/nonexistent/.env')).toThrowError(
        `Invalid ${name}="${value}" (from the environment): expected an integer >= 1`,
      )
    }
  })
})

describe('node:http with serverTimeouts', () => {
  it('answers 408 and closes a client whose headers never end', async () => {
    const app = await start({ headersTimeout: 300, bodyTimeout: 600 })
    try {
      const answer = await rawExchange(app.url, slowHeaders('/v1/rerank'), { giveUpMs: 15_000 })
      expect(answer.closedByServer).toBe(true)
      expect(answer.status).toBe(408)
      // The dribble went on until the server gave up on it, not only for the first bytes.
      expect(answer.bytesWritten).toBeGreaterThan(0)
    } finally {
      await app.close()
    }
  })

  it('answers 408 and closes a client whose body trickles, and scores nothing for it', async () => {
    const reranker = new OverlapReranker()
    const app = await start({ headersTimeout: 300, bodyTimeout: 600 }, reranker)
    try {
      const answer = await rawExchange(app.url, slowBody('/rerank'), { giveUpMs: 15_000 })
      expect(answer.closedByServer).toBe(true)
      expect(answer.status).toBe(408)
      expect(reranker.calls).toHaveLength(0)
      // The server is still there for everyone else.
      const ok = await fetch(`${app.url}/health`)
      expect(ok.status).toBe(200)
    } finally {
      await app.close()
    }
  })

  it('does not cut an answer that takes longer than the request timeout: only receiving is bounded', async () => {
    const reranker = new OverlapReranker()
    reranker.delayMs = 1000
    const app = await start({ headersTimeout: 200, bodyTimeout: 300 }, reranker)
    try {
      const response = await fetch(`${app.url}/v1/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: request,
      })
      expect(response.status).toBe(200)
      expect(((await response.json()) as { results: unknown }).results).toEqual([
        { index: 0, relevance_score: 1 },
      ])
    } finally {
      await app.close()
    }
  })
})

// `rerank-kit serve` as a separate process from source (as in cli.test.ts): the flags reach the server.
const fixture = fixtureModel
afterEach(killSpawnedClis)

async function serve(args: string[]) {
  const server = spawnCli(['serve', ...args])
  return { url: (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!, server }
}

describe('rerank-kit serve against slow clients', () => {
  it('closes slowloris connections after --headers-timeout / --body-timeout; --key-rate-limit answers 429', async () => {
    const { url, server } = await serve([
      ...['--model-path', fixture, '--port', '0', '--host', '127.0.0.1'],
      ...['--headers-timeout', '300', '--body-timeout', '600'],
      ...['--api-key', 'serve-key', '--key-rate-limit', '2'],
    ])
    const [headers, body] = await Promise.all([
      rawExchange(url, slowHeaders('/rerank'), { giveUpMs: 15_000 }),
      // With the key: without it the request is refused (401) before a byte of its body is awaited.
      rawExchange(url, slowBody('/v1/rerank', ['x-api-key: serve-key']), { giveUpMs: 15_000 }),
    ])
    for (const answer of [headers, body]) {
      expect(answer.closedByServer).toBe(true)
      expect(answer.status).toBe(408)
    }
    // The slow body is the client's fault: counted as 408 and logged as a warning, not as a 502 server error.
    // (Headers that never end never reach the handler: node:http alone answers them.)
    await server.waitFor(/ WARN {2}request body not received in time /)
    expect(server.stderr()).not.toMatch(/ ERROR /)
    const metrics = await (await fetch(`${url}/metrics`, { headers: { 'x-api-key': 'serve-key' } })).text()
    expect(metrics).toMatch(
      /^rerank_kit_http_requests_total\{route="\/v1\/rerank",family="\w+",status="408",status_class="4xx",model="[^"]+"\} 1$/m,
    )
    expect(metrics).not.toContain('status="502"')
    // The key's budget of 2: the slow upload spent one (/metrics spends none), /v1/models the other.
    const models = () => fetch(`${url}/v1/models`, { headers: { 'x-api-key': 'serve-key' } })
    expect((await models()).status).toBe(200)
    const refused = await models()
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  })
})
