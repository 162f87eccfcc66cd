import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadSettings } from './settings'
import { killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// `rerank-kit serve` as a separate process, started the ways an operator gets wrong or a platform makes
// awkward: a blank API key, an open address without a key, a stop while the model loads, and (load-balancer
// mode) a flood against a slow backend.

afterEach(killSpawnedClis)

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rerank-kit-hostile-startup-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** A local HTTP server on port 0 that holds each request until `holdMs` has passed (then answers it). */
async function slowServer(
  holdMs: number,
  answer: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`)
      const timer = setTimeout(() => {
        timers.delete(timer)
        answer(req, body, res)
      }, holdMs)
      timers.add(timer)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    requests,
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A native-format backend (POST /rerank) that takes `holdMs` to score, every document 0.5. */
function slowNativeBackend(holdMs: number) {
  return slowServer(holdMs, (req, body, res) => {
    if (req.url !== '/rerank') {
      res.writeHead(404).end()
      return
    }
    const { documents } = JSON.parse(body) as { documents: unknown[] }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        model: 'slow',
        results: documents.map((_, index) => ({ index, relevance_score: 0.5 })),
      }),
    )
  })
}

async function routerConfig(name: string, backendUrl: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(
    path,
    [
      'model_list:',
      '  - model_name: rerank',
      '    litellm_params:',
      `      api_base: ${backendUrl}`,
      '      format: native',
      '      model: slow',
    ].join('\n'),
  )
  return path
}

const lines = (text: string, pattern: RegExp) => text.split('\n').filter((line) => pattern.test(line))

describe('rerank-kit serve with a blank API key', () => {
  it('refuses to start (exit 2) with one line naming RERANKER_API_KEY, from the environment or a flag', async () => {
    const starts = [
      spawnCli(['serve', '--port', '0', '--host', '127.0.0.1'], { RERANKER_API_KEY: '' }),
      spawnCli(['serve', '--port', '0', '--host', '127.0.0.1'], { RERANKER_API_KEY: ' , ,' }),
      spawnCli(['serve', '--port', '0', '--host', '127.0.0.1', '--api-key=']),
      // `--api-key $KEY` with KEY unset: the flag arrives bare, and must not become the key "true".
      spawnCli(['serve', '--api-key', '--port', '0', '--host', '127.0.0.1']),
    ]
    for (const start of starts) {
      expect(await start.exited).toBe(2)
      const stderr = start.stderr()
      expect(lines(stderr, /RERANKER_API_KEY/), stderr).toHaveLength(1)
      expect(stderr).not.toContain('listening on')
      expect(start.stdout()).toBe('')
    }
    expect(starts[0]!.stderr()).toContain(
      'rerank-kit: Invalid RERANKER_API_KEY="" (from the environment): no key in it (leave it unset to serve without auth)',
    )
    expect(starts[2]!.stderr()).toContain('Invalid RERANKER_API_KEY="" (from the command line)')
    expect(starts[3]!.stderr()).toContain('rerank-kit: Flag --api-key (RERANKER_API_KEY) needs a value')
  })

  it('is refused from a .env file too; real keys are kept, and unset means no auth', async () => {
    const dotEnv = join(dir, 'blank-key.env')
    await writeFile(dotEnv, 'RERANKER_API_KEY=\n')
    expect(() => loadSettings({}, [], dotEnv)).toThrowError(
      `Invalid RERANKER_API_KEY="" (from ${dotEnv}): no key in it`,
    )
    expect(loadSettings({ RERANKER_API_KEY: ' a ,b,' }, [], dotEnv).apiKeys).toEqual(['a', 'b'])
    expect(loadSettings({}, [], join(dir, 'missing.env')).apiKeys).toEqual([])
  })
})

describe('rerank-kit serve without an API key', () => {
  let backend: Awaited<ReturnType<typeof slowNativeBackend>>
  let config: string
  beforeAll(async () => {
    backend = await slowNativeBackend(0)
    config = await routerConfig('warn.yaml', backend.url)
  })
  afterAll(() => backend.close())

  const start = (host: string, env: Record<string, string> = {}) =>
    spawnCli(['serve', '--host', host, '--port', '0'], {
      RERANKER_LOAD_BALANCER_ENABLED: 'true',
      RERANKER_CONFIG_PATH: config,
      ...env,
    })

  it('warns once on a non-loopback address, naming the address bound; never on loopback or with a key', async () => {
    const open = start('0.0.0.0')
    const loopback = start('127.0.0.1')
    const keyed = start('0.0.0.0', { RERANKER_API_KEY: 'sk-hostile-startup' })
    for (const server of [open, loopback, keyed]) await server.waitFor(/ INFO {2}ready /)
    // The line names what was bound: every interface is not 127.0.0.1.
    const [, port] = (await open.waitFor(/listening on http:\/\/0\.0\.0\.0:(\d+)/))!
    await loopback.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/)
    const warnings = lines(open.stderr(), / WARN /)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(
      `no RERANKER_API_KEY: anyone who can reach 0.0.0.0 port ${port} can use this server (set a key, or --host 127.0.0.1)`,
    )
    expect(lines(loopback.stderr(), / WARN |RERANKER_API_KEY/)).toEqual([])
    expect(lines(keyed.stderr(), / WARN |RERANKER_API_KEY/)).toEqual([])
    expect(keyed.stderr()).not.toContain('sk-hostile-startup')
    // Served, over loopback, without a key.
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200)
    for (const server of [open, loopback, keyed]) server.child.kill('SIGTERM')
    expect(await Promise.all([open.exited, loopback.exited, keyed.exited])).toEqual([0, 0, 0])
  })
})

describe('rerank-kit serve stopped while the model loads', () => {
  it('exits promptly on SIGTERM during a download that never ends, with a clear line', async () => {
    // A hub that takes every request and never answers: the download, so the load, would wait forever.
    const hub = await slowServer(3_600_000, (_req, _body, res) => res.end())
    const cache = await mkdtemp(join(tmpdir(), 'rerank-kit-hostile-cache-'))
    try {
      const server = spawnCli(
        [
          ...['serve', '--model-name', 'org/tiny-bert', '--model-cache-dir', cache],
          ...['--host', '127.0.0.1', '--port', '0', '--device', 'cpu'],
        ],
        { HF_ENDPOINT: hub.url },
      )
      const [, url] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))!
      // Loading for real: the hub was asked, and the server says it is not ready.
      for (let i = 0; i < 200 && hub.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 25))
      expect(hub.requests.length).toBeGreaterThan(0)
      const ready = await fetch(`${url}/ready`)
      expect(ready.status).toBe(503)
      expect(await ready.json()).toEqual({ status: 'loading' })

      const signalled = performance.now()
      server.child.kill('SIGTERM')
      // Bounded: a stop that is ignored must fail here, not at the test's timeout.
      const code = await Promise.race([
        server.exited,
        new Promise((resolve) => setTimeout(() => resolve('still running after 5 s'), 5000).unref()),
      ])
      const stoppedInMs = performance.now() - signalled
      expect(code).toBe(0)
      expect(stoppedInMs).toBeLessThan(2000)
      expect(server.stderr()).toContain(
        'SIGTERM while loading the model: stopped without waiting for the load',
      )
      expect(server.stderr()).not.toMatch(/ INFO {2}ready /)
    } finally {
      await hub.close()
      await rm(cache, { recursive: true, force: true })
    }
  })
})

describe('rerank-kit serve in load-balancer mode under a flood', () => {
  it('past the in-flight cap answers 503 + Retry-After at once; the admitted requests get 200', async () => {
    const holdMs = 2000
    const backend = await slowNativeBackend(holdMs)
    try {
      const config = await routerConfig('flood.yaml', backend.url)
      const server = spawnCli(['serve', '--host', '127.0.0.1', '--port', '0', '--max-in-flight', '4'], {
        RERANKER_LOAD_BALANCER_ENABLED: 'true',
        RERANKER_CONFIG_PATH: config,
      })
      const [, url] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))!
      await server.waitFor(/ INFO {2}ready /)

      const post = async (path: string) => {
        const started = performance.now()
        const response = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'rerank', query: 'capital of France', documents: ['Paris', 'Rome'] }),
        })
        return {
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          body: (await response.json()) as Record<string, unknown>,
          ms: performance.now() - started,
        }
      }
      const floodStarted = performance.now()
      const flood = Promise.all(
        Array.from({ length: 24 }, (_, i) => post(i % 2 === 0 ? '/rerank' : '/v1/rerank')),
      )
      // While the admitted ones wait on the backend, /ready tells a balancer in front to send elsewhere.
      for (let i = 0; i < 100 && backend.requests.length < 4; i++) await new Promise((r) => setTimeout(r, 20))
      const ready = await fetch(`${url}/ready`)
      expect(ready.status).toBe(503)
      expect(await ready.json()).toEqual({ status: 'saturated' })

      const answers = await flood
      const floodMs = performance.now() - floodStarted
      const admitted = answers.filter((answer) => answer.status === 200)
      const refused = answers.filter((answer) => answer.status !== 200)
      expect(admitted).toHaveLength(4)
      expect(refused).toHaveLength(20)
      for (const answer of admitted) expect(answer.ms).toBeGreaterThanOrEqual(holdMs - 100)
      for (const answer of refused) {
        expect(answer.status).toBe(503)
        expect(answer.retryAfter).toBe('1')
        // At once, not after the backend's 2 s nor the 30 s deadline.
        expect(answer.ms).toBeLessThan(1000)
      }
      // Each route family refuses in its own error format (native `error.code`, Cohere `message`).
      expect(refused.some((answer) => (answer.body.error as { code?: string })?.code === 'overloaded')).toBe(
        true,
      )
      expect(refused.some((answer) => typeof answer.body.message === 'string')).toBe(true)
      // Nothing waited to the deadline; the backend saw only the admitted requests (no retries of refusals).
      expect(floodMs).toBeLessThan(holdMs + 3000)
      expect(backend.requests.filter((request) => request.startsWith('POST'))).toHaveLength(4)

      // Capacity comes back as the admitted requests finish.
      expect((await post('/rerank')).status).toBe(200)
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
    } finally {
      await backend.close()
    }
  })

  it('caps at 256 requests in flight by default', () => {
    expect(loadSettings({}, [], join(dir, 'missing.env')).maxInFlight).toBe(256)
    expect(loadSettings({ RERANKER_MAX_IN_FLIGHT: '8' }, [], join(dir, 'missing.env')).maxInFlight).toBe(8)
    expect(() => loadSettings({ RERANKER_MAX_IN_FLIGHT: '0' }, [], join(dir, 'missing.env'))).toThrowError(
      'Invalid RERANKER_MAX_IN_FLIGHT="0" (from the environment): expected an integer >= 1',
    )
  })
})
