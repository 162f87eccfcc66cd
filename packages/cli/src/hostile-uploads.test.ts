import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeVendor, startFakeVendor } from '../../client/src/test-support/fake-vendors'
import { type RawAnswer, rawExchange } from '../../server/src/test-support/raw-http'
import { eagerUploadFlood } from '../../server/src/test-support/upload-flood'
import { loadSettings } from './settings'
import { fixtureModel, killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// `rerank-kit serve` (the fixture model, or in load-balancer mode in front of a fake backend, on loopback)
// against uploads it must refuse from their headers alone: without the key, over its caps (connections, bytes
// of bodies being read), with a wrong method, and against a flood of wrong keys. Clients that send their
// headers and wait for an answer before sending a byte of their body prove, when the answer came first, that
// the body was never read; clients that send everything at once (most do) must get the same answer, not a
// reset.

const key = 'hostile-uploads-key'
const tenMiB = 10 * 2 ** 20
const json = JSON.stringify({ query: 'capital of France', documents: ['Paris is the capital of France.'] })

let backend: FakeVendor | undefined
let configDir: string | undefined
afterAll(async () => {
  killSpawnedClis()
  await backend?.close()
  if (configDir) rmSync(configDir, { recursive: true, force: true })
})

describe('settings for the caps, the failed-key limit and public routes', () => {
  const none = '/nonexistent/.env'
  it('default to 1024 connections, 64 MiB of bodies, 30 wrong keys a minute, /health and /ready public', () => {
    expect(loadSettings({}, [], none)).toMatchObject({
      maxConnections: 1024,
      maxBodyBytesInFlight: 64 * 2 ** 20,
      authFailureLimit: 30,
      authFailureWindow: 60_000,
      publicRoutes: ['/health', '/ready'],
    })
    expect(
      loadSettings(
        { RERANKER_PUBLIC_ROUTES: '/health, /docs,/openapi.json', RERANKER_AUTH_FAILURE_LIMIT: '0' },
        [],
        none,
      ),
    ).toMatchObject({ publicRoutes: ['/health', '/docs', '/openapi.json'], authFailureLimit: 0 })
  })

  it('refuse a body budget below one 10 MiB body, and public routes that are not GET routes', () => {
    expect(() => loadSettings({ RERANKER_MAX_BODY_BYTES_IN_FLIGHT: '1000' }, [], none)).toThrow(
      `Invalid RERANKER_MAX_BODY_BYTES_IN_FLIGHT="1000" (from the environment): expected an integer >= ${tenMiB}`,
    )
    expect(() => loadSettings({ RERANKER_PUBLIC_ROUTES: '/health,/rerank' }, [], none)).toThrow(
      /Invalid RERANKER_PUBLIC_ROUTES="\/health,\/rerank" \(from the environment\): not a GET route: \/rerank/,
    )
    expect(() => loadSettings({ RERANKER_MAX_CONNECTIONS: '0' }, [], none)).toThrow(
      'expected an integer >= 1',
    )
  })
})

/** Load-balancer mode: a YAML config with one group, a fake TEI backend (started once). */
async function loadBalancerEnv(): Promise<Record<string, string>> {
  backend ??= await startFakeVendor('tei')
  configDir ??= mkdtempSync(join(tmpdir(), 'rerank-kit-uploads-'))
  const config = join(configDir, 'router.yaml')
  writeFileSync(
    config,
    [
      'model_list:',
      '  - model_name: fake',
      `    litellm_params: { api_base: "${backend.url}", format: tei }`,
    ].join('\n'),
  )
  return { RERANKER_LOAD_BALANCER_ENABLED: 'true', RERANKER_CONFIG_PATH: config }
}

type Mode = 'model' | 'load-balancer'

async function serve(flags: string[], mode: Mode = 'model') {
  const server = spawnCli(
    [
      'serve',
      ...(mode === 'model' ? ['--model-path', fixtureModel] : []),
      ...['--host', '127.0.0.1', '--port', '0', '--api-key', key],
      ...flags,
    ],
    mode === 'model' ? {} : await loadBalancerEnv(),
  )
  const url = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!
  await server.waitFor(/ INFO {2}ready /)
  return { url, pid: server.child.pid!, stderr: server.stderr }
}

/** The resident memory of a process, in bytes, from /proc. */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb) * 1024
}

const head = (method: string, path: string, headers: string[]) =>
  [`${method} ${path} HTTP/1.1`, 'host: localhost', ...headers].join('\r\n')

/** Headers announcing `body`, which is sent only if no answer began within 2 s. */
const upload = (url: string, path: string, headers: string[], body: Buffer, method = 'POST') =>
  rawExchange(url, { head: head(method, path, headers), body, holdBodyMs: 2000 }, { giveUpMs: 30_000 })

describe.each<Mode>(['model', 'load-balancer'])(
  'rerank-kit serve (%s mode): uploads refused from their headers',
  (mode) => {
    let server: Awaited<ReturnType<typeof serve>>
    beforeAll(async () => {
      // The failed-key limit off: every one of them must be the 401 itself.
      server = await serve(
        ['--auth-failure-limit', '0', '--public-routes', '/health,/ready,/docs,/openapi.json'],
        mode,
      )
    }, 60_000)

    it('answers each 401 before reading a byte of its body, and the server barely grows', async () => {
      // One buffer for all: the test's own memory must not be what is measured.
      const body = Buffer.alloc(tenMiB, 0x20)
      const before = rssOf(server.pid)
      let peak = before
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssOf(server.pid))
      }, 10)
      const send = (auth: string[]) =>
        rawExchange(
          server.url,
          {
            head: head('POST', '/v1/rerank', [
              ...auth,
              'content-type: application/json',
              `content-length: ${body.length}`,
            ]),
            body,
            holdBodyMs: 3000,
          },
          { closeWaitMs: 1000, giveUpMs: 30_000 },
        )
      let answers: RawAnswer[]
      try {
        answers = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            send(i % 2 === 0 ? [] : [`authorization: Bearer wrong-${i}`]),
          ),
        )
      } finally {
        clearInterval(sampler)
      }
      peak = Math.max(peak, rssOf(server.pid))
      for (const answer of answers) {
        expect(answer.status, answer.raw.slice(0, 120)).toBe(401)
        expect(answer.bytesWritten).toBe(0)
        expect(answer.closedByServer).toBe(true)
        expect(JSON.parse(answer.body)).toEqual({ message: 'A valid API key is required' })
      }
      expect(peak - before, `RSS ${before} -> peak ${peak}`).toBeLessThan(100 * 2 ** 20)
      // Still serving.
      const ok = await fetch(`${server.url}/v1/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: json,
      })
      expect(ok.status).toBe(200)
    }, 60_000)

    it('answers 200 eager 10 MiB uploaders (body sent with the headers) their 401, not a reset; /health meanwhile', async () => {
      const body = Buffer.alloc(tenMiB, 0x20)
      const before = rssOf(server.pid)
      let peak = before
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssOf(server.pid))
      }, 10)
      let flood: Awaited<ReturnType<typeof eagerUploadFlood>>
      try {
        flood = await eagerUploadFlood(server.url, {
          count: 200,
          body,
          head: head('POST', '/v1/rerank', [
            'content-type: application/json',
            `content-length: ${body.length}`,
          ]),
        })
      } finally {
        clearInterval(sampler)
      }
      peak = Math.max(peak, rssOf(server.pid))
      for (const answer of flood.answers) {
        expect(answer.error, answer.raw.slice(0, 120)).toBeUndefined()
        expect(answer.status).toBe(401)
        expect(answer.closedByServer).toBe(true)
        expect(JSON.parse(answer.body)).toEqual({ message: 'A valid API key is required' })
      }
      expect(peak - before, `RSS ${before} -> peak ${peak}`).toBeLessThan(100 * 2 ** 20)
      expect(flood.health.length).toBeGreaterThan(0)
      expect(flood.health.map((asked) => asked.status)).toEqual(flood.health.map(() => 200))
      expect(flood.health[0]!.answeredAtMs).toBeLessThan(flood.durationMs)
    }, 60_000)

    it('answers Expect: 100-continue only after the key: a wrong key gets 401 and no 100, a right one 100 then 200', async () => {
      const send = (auth: string) =>
        rawExchange(server.url, {
          head: head('POST', '/rerank', [
            auth,
            'content-type: application/json',
            `content-length: ${json.length}`,
            'expect: 100-continue',
            'connection: close',
          ]),
          body: json,
          bodyOnContinue: true,
        })
      const wrong = await send('authorization: Bearer wrong')
      expect(wrong.status).toBe(401)
      expect(wrong.interim).toEqual([])
      expect(wrong.bytesWritten).toBe(0)
      const right = await send(`authorization: Bearer ${key}`)
      expect(right.interim).toEqual([100])
      expect(right.status).toBe(200)
      expect(JSON.parse(right.body).results).toHaveLength(1)
    })

    it('answers a wrong method 405 with Allow, and keeps /health, /ready and the chosen routes public', async () => {
      const get = await fetch(`${server.url}/rerank`, { headers: { authorization: `Bearer ${key}` } })
      expect(get.status).toBe(405)
      expect(get.headers.get('allow')).toBe('POST')
      const put = await upload(
        server.url,
        '/v1/rerank',
        [`authorization: Bearer ${key}`, `content-length: ${tenMiB}`],
        Buffer.alloc(16),
        'PUT',
      )
      expect(put.status).toBe(405)
      expect(put.bytesWritten).toBe(0)
      for (const path of ['/health', '/ready', '/docs', '/openapi.json']) {
        expect((await fetch(`${server.url}${path}`)).status, path).toBe(200)
      }
      for (const path of ['/stats', '/metrics', '/v1/models']) {
        expect((await fetch(`${server.url}${path}`)).status, path).toBe(401)
      }
    })
  },
)

describe('rerank-kit serve: checks from the headers, caps and public routes', () => {
  let server: Awaited<ReturnType<typeof serve>>
  beforeAll(async () => {
    server = await serve([
      ...['--max-connections', '4', '--max-body-bytes-in-flight', String(tenMiB)],
      ...['--public-routes', '/health,/ready,/docs,/openapi.json', '--auth-failure-limit', '100'],
    ])
  }, 60_000)

  it('answers 503 + Retry-After past the connection cap, and serves again once below it', async () => {
    const { hostname, port } = new URL(server.url)
    const idle: Socket[] = []
    try {
      for (let i = 0; i < 4; i++) {
        const socket = connect(Number(port), hostname)
        socket.on('error', () => {})
        await new Promise((resolve) => socket.once('connect', resolve))
        idle.push(socket)
      }
      const refused = await upload(
        server.url,
        '/api/v1/rerank',
        [`authorization: Bearer ${key}`, `content-length: ${json.length}`],
        Buffer.from(json),
      )
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBe('1')
      expect(JSON.parse(refused.body)).toEqual({
        detail: 'The server has its limit of 4 connections open, retry later',
      })
      expect(refused.bytesWritten).toBe(0)
      expect(refused.closedByServer).toBe(true)
    } finally {
      for (const socket of idle) socket.destroy()
    }
    let status: number | undefined
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      status = (await rawExchange(server.url, { head: head('GET', '/health', ['connection: close']) })).status
    }
    expect(status).toBe(200)
  })

  it('answers 503 + Retry-After past the body-bytes budget, the body unread, and takes it once room is made', async () => {
    // 6 MiB bodies (valid JSON: a request, then whitespace) against a 10 MiB budget: one at a time.
    const body = Buffer.alloc(6 * 2 ** 20, 0x20)
    body.write(json)
    const announced = [
      `authorization: Bearer ${key}`,
      'content-type: application/json',
      `content-length: ${body.length}`,
    ]
    const { hostname, port } = new URL(server.url)
    const first = connect(Number(port), hostname)
    const firstAnswer = new Promise<string>((resolve) => {
      let text = ''
      first.on('data', (chunk) => {
        text += chunk.toString('latin1')
      })
      first.on('close', () => resolve(text))
    })
    first.write(`${head('POST', '/rerank', [...announced, 'connection: close'])}\r\n\r\n`)
    first.write(body.subarray(0, 2 ** 20))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const second = await upload(server.url, '/rerank', announced, body)
    expect(second.status).toBe(503)
    expect(second.headers['retry-after']).toBe('1')
    expect(JSON.parse(second.body).error.message).toBe(
      `The server is reading ${tenMiB} bytes of request bodies already, retry later`,
    )
    expect(second.bytesWritten).toBe(0)
    // Written, not ended: node:http closes a connection the client half-closes before its answer is ready.
    first.write(body.subarray(2 ** 20))
    expect(await firstAnswer, server.stderr()).toMatch(/^HTTP\/1\.1 200 /)
    const again = await rawExchange(server.url, {
      head: head('POST', '/rerank', [...announced, 'connection: close']),
      body,
    })
    expect(again.status).toBe(200)
  }, 30_000)
})

describe('rerank-kit serve: the failed-key limit', () => {
  it('answers 429 after --auth-failure-limit wrong keys from an address, then even to the right key', async () => {
    const server = await serve(['--auth-failure-limit', '3', '--auth-failure-window', '60000'])
    const as = (value: string) =>
      fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${value}` } })
    expect((await as(key)).status).toBe(200)
    const refusals = []
    for (let i = 0; i < 3; i++) refusals.push(await as(`wrong-${i}`))
    const texts = await Promise.all(refusals.map((response) => response.text()))
    expect(refusals.map((response) => response.status)).toEqual([401, 401, 401])
    expect(new Set(texts).size).toBe(1)
    const limited = await as('wrong-4')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(50)
    expect((await as(key)).status).toBe(429)
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
    expect((await fetch(`${server.url}/ready`)).status).toBe(200)
  }, 60_000)
})
