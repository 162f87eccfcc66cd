import { Agent, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { AuthFailureLimiter } from './auth-failure-limit'
import { createRerankHandler } from './create-rerank-handler'
import type { RerankHandlerOptions } from './handler-types'
import { createRerankServer, type RerankServerOptions } from './node-server'
import { listening } from './test-support/listening'
import { OverlapReranker } from './test-support/overlap-reranker'
import { rawExchange } from './test-support/raw-http'
import { eagerUploadFlood } from './test-support/upload-flood'

// The standalone server's node:http layer: what it refuses from the headers alone (and so never reads the
// body of), its caps across requests (connections, bytes of bodies), `Expect: 100-continue`, the failed-key
// limit per address, and how slow uploads are counted.

const key = 'node-server-key'
const json = JSON.stringify({ query: 'capital of France', documents: ['Paris is the capital of France.'] })

async function start(
  options: Partial<RerankHandlerOptions> = {},
  serverOptions: RerankServerOptions = {},
  reranker = new OverlapReranker(),
) {
  const handler = createRerankHandler({ reranker, apiKeys: [key], ...options })
  return { reranker, ...(await listening(createRerankServer(handler, serverOptions))) }
}

const head = (method: string, path: string, headers: string[]) =>
  [`${method} ${path} HTTP/1.1`, 'host: localhost', ...headers].join('\r\n')

/** An open connection that has sent nothing yet: it counts against the connection cap. */
async function idleConnection(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  return socket
}

describe('Expect: 100-continue', () => {
  it('is answered only after the key is checked: a wrong key gets 401 and no 100, a right key 100 then 200', async () => {
    const app = await start()
    try {
      const send = (auth: string) =>
        rawExchange(app.url, {
          head: head('POST', '/v1/rerank', [
            auth,
            'content-type: application/json',
            `content-length: ${json.length}`,
            'expect: 100-continue',
            'connection: close',
          ]),
          body: json,
          bodyOnContinue: true,
        })
      const wrong = await send('authorization: Bearer nope')
      expect(wrong.interim).toEqual([])
      expect(wrong.status).toBe(401)
      expect(wrong.bytesWritten).toBe(0)
      expect(wrong.closedByServer).toBe(true)
      expect(wrong.raw).not.toContain('100 Continue')
      const right = await send(`authorization: Bearer ${key}`)
      expect(right.interim).toEqual([100])
      expect(right.status).toBe(200)
      expect(right.bytesWritten).toBe(json.length)
      expect(JSON.parse(right.body).results).toEqual([{ index: 0, relevance_score: 1 }])
    } finally {
      await app.close()
    }
  })
})

/** Connects without answering a FIN with one: such a client keeps sending after the server ended its side. */
function stubbornUpload(url: string, requestHead: string, chunk: Buffer, everyMs: number) {
  const { hostname, port } = new URL(url)
  const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true })
  const started = performance.now()
  let received = ''
  let sent = 0
  socket.on('error', () => {})
  socket.on('data', (data) => {
    received += data.toString('latin1')
  })
  socket.write(`${requestHead}\r\n\r\n`)
  socket.write(chunk)
  sent += chunk.length
  // everyMs 0: that one chunk only.
  const writing =
    everyMs > 0
      ? setInterval(() => {
          if (!socket.writable) return
          sent += chunk.length
          socket.write(chunk)
        }, everyMs)
      : undefined
  return {
    socket,
    closed: new Promise<{ received: string; sent: number; closedAfterMs: number }>((resolve) => {
      socket.on('close', () => {
        clearInterval(writing)
        resolve({ received, sent, closedAfterMs: performance.now() - started })
      })
    }),
  }
}

describe('refusals to clients that send the body at once (lingering close)', () => {
  it('200 eager unauthenticated 10 MiB uploads all get their 401, not a reset; nothing held; /health answers meanwhile', async () => {
    const app = await start()
    const body = Buffer.alloc(10 * 2 ** 20, 0x20)
    const before = process.memoryUsage.rss()
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss())
    }, 10)
    try {
      const flood = await eagerUploadFlood(app.url, {
        count: 200,
        body,
        head: head('POST', '/v1/rerank', [
          'content-type: application/json',
          `content-length: ${body.length}`,
        ]),
      })
      for (const answer of flood.answers) {
        expect(answer.error, answer.raw.slice(0, 120)).toBeUndefined()
        expect(answer.status).toBe(401)
        expect(answer.headers.connection).toBe('close')
        expect(JSON.parse(answer.body)).toEqual({ message: 'A valid API key is required' })
        expect(answer.closedByServer).toBe(true)
      }
      expect(flood.health.length).toBeGreaterThan(0)
      expect(flood.health.map((asked) => asked.status)).toEqual(flood.health.map(() => 200))
      expect(flood.health[0]!.answeredAtMs).toBeLessThan(flood.durationMs)
      // The test's own 10 MiB buffer and sockets included: the server holds none of the 2 GB.
      expect(peak - before, `RSS ${before} -> peak ${peak}`).toBeLessThan(100 * 2 ** 20)
    } finally {
      clearInterval(sampler)
      await app.close()
    }
  }, 60_000)

  // A small body limit does not shrink that bound: a 413 is for a body over the limit, and dropping only the
  // limit's worth would reset the client before it read its answer.
  it('drops at most the default body limit (10 MiB): a client that keeps sending past it is cut off', async () => {
    const app = await start({ limits: { maxBodyBytes: 1000 } }, { maxBodyBytes: 1000 })
    try {
      const cut = await stubbornUpload(
        app.url,
        head('POST', '/rerank', [`authorization: Bearer ${key}`, 'content-length: 1000000000']),
        Buffer.alloc(256 * 1024, 0x20),
        1,
      ).closed
      expect(cut.received).toMatch(/^HTTP\/1\.1 413 /)
      // Cut by the byte bound (the client never pauses, so not by the idle bound), well before the 10 s one,
      // and not before the default limit's worth was sent.
      expect(cut.closedAfterMs).toBeLessThan(8000)
      expect(cut.sent).toBeGreaterThan(10 * 2 ** 20)
    } finally {
      await app.close()
    }
  })

  it('lingers at most 2 s for a client that stops sending without closing', async () => {
    const server = createRerankServer(
      createRerankHandler({ reranker: new OverlapReranker(), apiKeys: [key] }),
    )
    const closedAt: number[] = []
    server.on('connection', (socket: Socket) => socket.once('close', () => closedAt.push(performance.now())))
    const app = await listening(server)
    try {
      const started = performance.now()
      const client = stubbornUpload(
        app.url,
        head('POST', '/rerank', ['authorization: Bearer wrong', 'content-length: 1000000']),
        Buffer.from(' '),
        0,
      )
      for (let i = 0; i < 250 && closedAt.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(closedAt[0]! - started).toBeGreaterThan(1800)
      expect(closedAt[0]! - started).toBeLessThan(4000)
      client.socket.destroy()
      expect((await client.closed).received).toMatch(/^HTTP\/1\.1 401 /)
    } finally {
      await app.close()
    }
  })

  it('closes as soon as the client has sent its whole body, or closed its side', async () => {
    const app = await start()
    try {
      const started = performance.now()
      const whole = await rawExchange(
        app.url,
        { head: head('POST', '/rerank', ['content-length: 100000']), body: Buffer.alloc(100_000, 0x20) },
        { closeWaitMs: 5000 },
      )
      expect(whole.status).toBe(401)
      expect(whole.error).toBeUndefined()
      expect(whole.closedByServer).toBe(true)
      expect(performance.now() - started).toBeLessThan(1000)
    } finally {
      await app.close()
    }
  })
})

describe('a refused request with a small body', () => {
  // Under overload every refusal closing its connection made clients reconnect per request, and node:http
  // accepts one connection per turn of a busy event loop: refusals took 750 ms at p99 instead of 33 ms.
  it('keeps its keep-alive connection: node:http drops the body and reads the next request on it', async () => {
    const app = await start()
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
      new Promise<{ status: number; reused: boolean; connection: string | undefined }>((resolve, reject) => {
        const { hostname, port } = new URL(app.url)
        const req = request({ host: hostname, port, method, path, headers, agent }, (res) => {
          res.resume()
          res.once('end', () =>
            resolve({
              status: res.statusCode!,
              reused: req.reusedSocket,
              connection: res.headers.connection,
            }),
          )
        })
        req.once('error', reject)
        req.end(body)
      })
    try {
      const refused = await send('POST', '/rerank', { 'content-type': 'application/json' }, json)
      expect(refused).toEqual({ status: 401, reused: false, connection: 'keep-alive' })
      const next = await send(
        'POST',
        '/rerank',
        { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        json,
      )
      expect(next).toEqual({ status: 200, reused: true, connection: 'keep-alive' })
    } finally {
      agent.destroy()
      await app.close()
    }
  })
})

describe('the connection cap', () => {
  it('answers 503 + Retry-After past it, closes that connection, and serves again once below it', async () => {
    const app = await start({}, { maxConnections: 2 })
    const idle = await Promise.all([idleConnection(app.url), idleConnection(app.url)])
    try {
      const refused = await rawExchange(app.url, {
        head: head('GET', '/health', ['connection: keep-alive']),
      })
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBe('1')
      expect(JSON.parse(refused.body).error.message).toBe(
        'The server has its limit of 2 connections open, retry later',
      )
      expect(refused.closedByServer).toBe(true)
      // In the route's own format, before the key is looked at.
      const cohere = await rawExchange(app.url, {
        head: head('POST', '/v1/rerank', ['content-length: 5000000']),
      })
      expect(cohere.status).toBe(503)
      expect(JSON.parse(cohere.body)).toEqual({
        message: 'The server has its limit of 2 connections open, retry later',
      })
      for (const socket of idle) socket.destroy()
      for (let i = 0; i < 100; i++) {
        const answer = await rawExchange(app.url, { head: head('GET', '/health', ['connection: close']) })
        if (answer.status === 200) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const served = await fetch(`${app.url}/v1/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: json,
      })
      expect(served.status).toBe(200)
    } finally {
      for (const socket of idle) socket.destroy()
      await app.close()
    }
  })
})

describe('the body-bytes budget', () => {
  it('refuses a body that does not fit beside those being read (503, unread), and takes it once they are done', async () => {
    const app = await start(
      { limits: { maxBodyBytes: 1000 } },
      { maxBodyBytes: 1000, maxBodyBytesInFlight: 1500 },
    )
    const { hostname, port } = new URL(app.url)
    const body = JSON.stringify({ query: 'capital of France', documents: ['Paris'.padEnd(900, ' ')] })
    const announced = [
      `authorization: Bearer ${key}`,
      'content-type: application/json',
      `content-length: ${body.length}`,
    ]
    try {
      // A first upload holds its share: half of its body sent, the rest kept back.
      const first = connect(Number(port), hostname)
      const firstAnswer = new Promise<string>((resolve) => {
        let text = ''
        first.on('data', (chunk) => {
          text += chunk.toString()
        })
        first.on('close', () => resolve(text))
      })
      first.write(
        `${head('POST', '/rerank', [...announced, 'connection: close'])}\r\n\r\n${body.slice(0, 400)}`,
      )
      await new Promise((resolve) => setTimeout(resolve, 200))
      const second = await rawExchange(app.url, {
        head: head('POST', '/rerank', announced),
        body,
        holdBodyMs: 1500,
      })
      expect(second.status).toBe(503)
      expect(second.headers['retry-after']).toBe('1')
      expect(JSON.parse(second.body).error.message).toBe(
        'The server is reading 1500 bytes of request bodies already, retry later',
      )
      expect(second.bytesWritten).toBe(0)
      expect(second.closedByServer).toBe(true)
      first.write(body.slice(400))
      expect(await firstAnswer).toMatch(/^HTTP\/1\.1 200 /)
      // Its share was given back with its answer.
      const again = await rawExchange(app.url, {
        head: head('POST', '/rerank', [...announced, 'connection: close']),
        body,
      })
      expect(again.status).toBe(200)
    } finally {
      await app.close()
    }
  })

  it('counts bodies of no declared length chunk by chunk', async () => {
    const app = await start(
      { limits: { maxBodyBytes: 1000 } },
      { maxBodyBytes: 1000, maxBodyBytesInFlight: 1000 },
    )
    const { hostname, port } = new URL(app.url)
    try {
      // A chunked upload holding 900 bytes, then another whose first chunk does not fit.
      const first = connect(Number(port), hostname)
      first.on('error', () => {})
      first.write(
        `${head('POST', '/rerank', [`authorization: Bearer ${key}`, 'content-type: application/json', 'transfer-encoding: chunked'])}\r\n\r\n384\r\n${' '.repeat(900)}\r\n`,
      )
      await new Promise((resolve) => setTimeout(resolve, 200))
      const second = await rawExchange(app.url, {
        head: head('POST', '/api/v1/rerank', [
          `authorization: Bearer ${key}`,
          'content-type: application/json',
          'transfer-encoding: chunked',
        ]),
        body: `c8\r\n${' '.repeat(200)}\r\n`,
      })
      expect(second.status).toBe(503)
      expect(JSON.parse(second.body)).toEqual({
        detail: 'The server is reading 1000 bytes of request bodies already, retry later',
      })
      first.destroy()
    } finally {
      await app.close()
    }
  })

  it('must hold at least one body of the per-request limit', () => {
    const handler = createRerankHandler({ reranker: new OverlapReranker() })
    expect(() => createRerankServer(handler, { maxBodyBytes: 2000, maxBodyBytesInFlight: 1000 })).toThrow(
      'maxBodyBytesInFlight (1000) must be at least maxBodyBytes (2000)',
    )
  })
})

describe('the failed-key limit per address', () => {
  it('answers 429 after N wrong keys from an address, whatever key it sends, while public routes stay open', async () => {
    const app = await start({ authFailureLimits: { maxFailures: 3, windowMs: 60_000 } })
    const as = (value: string, path = '/v1/models') =>
      fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${value}` } })
    try {
      expect((await as(key)).status).toBe(200)
      const wrong = []
      for (let i = 0; i < 3; i++) wrong.push(await (await as(`wrong-${i}`)).text())
      // The 401s are the same for every wrong key.
      expect(new Set(wrong).size).toBe(1)
      const limited = await as('wrong-4')
      expect(limited.status).toBe(429)
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(50)
      expect(((await limited.json()) as { error: { message: string } }).error.message).toBe(
        'Too many failed API key attempts from this address, retry later',
      )
      // A right key guessed now gets no further.
      expect((await as(key)).status).toBe(429)
      expect((await as(key, '/rerank')).status).toBe(429)
      expect((await fetch(`${app.url}/health`)).status).toBe(200)
      expect((await fetch(`${app.url}/ready`)).status).toBe(200)
    } finally {
      await app.close()
    }
  })

  it('counts per address, in windows, and remembers a bounded number of addresses', () => {
    const clock = { ms: 0 }
    const limiter = new AuthFailureLimiter(
      { maxFailures: 2, windowMs: 1000, maxAddresses: 3 },
      () => clock.ms,
    )
    limiter.recordFailure('a')
    limiter.recordFailure('a')
    expect(() => limiter.check('a')).toThrow('Too many failed API key attempts')
    limiter.check('b')
    limiter.check(undefined)
    clock.ms = 400
    let refusal: unknown
    try {
      limiter.check('a')
    } catch (error) {
      refusal = error
    }
    expect(refusal).toMatchObject({ status: 429, retryAfterMs: 600 })
    clock.ms = 1000
    limiter.check('a')
    for (const address of ['b', 'c', 'd', 'e']) limiter.recordFailure(address)
    expect(limiter.size).toBe(3)
    expect(() => new AuthFailureLimiter({ maxFailures: 0 })).toThrow('maxFailures must be an integer >= 1')
  })
})

describe('key budgets and monitoring routes', () => {
  it('never spends a key budget on /health, /ready, /stats, /lb/stats or /metrics', async () => {
    const app = await start({ keyRateLimits: { requestsPerMinute: 2 } })
    const as = (path: string) => fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${key}` } })
    try {
      for (let i = 0; i < 5; i++) {
        for (const path of ['/health', '/ready', '/stats', '/lb/stats', '/metrics']) {
          expect((await as(path)).status, path).toBe(200)
        }
      }
      expect((await as('/v1/models')).status).toBe(200)
      expect((await as('/v1/models')).status).toBe(200)
      expect((await as('/v1/models')).status).toBe(429)
    } finally {
      await app.close()
    }
  })
})

describe('slow uploads', () => {
  it('are counted as 408 and logged as a warning, not as a server error', async () => {
    const logged: string[] = []
    const record = (level: string) => (message: string) => void logged.push(`${level} ${message}`)
    const logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    }
    const app = await start(
      { logger },
      { headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 100 },
    )
    try {
      const answer = await rawExchange(
        app.url,
        {
          head: head('POST', '/rerank', [
            `authorization: Bearer ${key}`,
            'content-type: application/json',
            'content-length: 10000',
          ]),
          stream: { chunk: ' ', everyMs: 50 },
        },
        { giveUpMs: 10_000 },
      )
      expect(answer.status).toBe(408)
      for (let i = 0; i < 100 && !logged.some((line) => line.startsWith('warn')); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(logged).toContain('warn request body not received in time')
      expect(logged.filter((line) => line.startsWith('error'))).toEqual([])
      const metrics = await (
        await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })
      ).text()
      expect(metrics).toMatch(
        /^rerank_kit_http_requests_total\{route="\/rerank",family="\w+",status="408",status_class="4xx",model="[^"]+"\} 1$/m,
      )
      expect(metrics).not.toContain('status="502"')
    } finally {
      await app.close()
    }
  })
})
