import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeVendor, startFakeVendor } from '../../client/src/test-support/fake-vendors'
import {
  type HugeAnswerServer,
  startHugeAnswerServer,
} from '../../client/src/test-support/huge-answer-server'
import { killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// `rerank-kit serve` in load-balancer mode, as a separate process, in front of fake backends that answer
// wrongly on purpose: a 401 echoing the key, a 429 asking for a day, a 200 with too few results, a 200 MB
// body. Each hostile backend is a group's first choice (priority-failover), with a healthy one behind it: the
// caller gets the healthy answer, or a 502 that says nothing of the backend, and no log line holds the key.

const secret = 'sk-live-CLI-ECHO-7e3d1b'
const expected = [
  { index: 0, relevance_score: 2 / 3 },
  { index: 2, relevance_score: 1 / 3 },
  { index: 1, relevance_score: 0 },
]
const documents = ['red apple pie', 'green pear', 'apple']

let dir: string
let healthy: FakeVendor
let denied: FakeVendor
let limited: FakeVendor
let short: FakeVendor
let huge: HugeAnswerServer
let server: ReturnType<typeof spawnCli>
let url: string

/** A group of the hostile backend (order 1) and, unless alone, the healthy one (order 2). */
const group = (name: string, apiBase: string, format: string, alone = false) => [
  `  - model_name: ${name}`,
  `    litellm_params: { api_base: "${apiBase}", format: ${format}, model: m, api_key: os.environ/BACKEND_KEY, order: 1 }`,
  ...(alone
    ? []
    : [
        `  - model_name: ${name}`,
        `    litellm_params: { api_base: "${healthy.url}", format: tei, order: 2 }`,
      ]),
]

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rerank-kit-hostile-'))
  healthy = await startFakeVendor('tei')
  denied = await startFakeVendor('tei', {
    fault: () => ({
      status: 401,
      message: `invalid api key ${secret} (http://10.0.0.7/rerank?key=${secret})`,
    }),
  })
  limited = await startFakeVendor('cohere', {
    fault: () => ({ status: 429, headers: { 'retry-after': '86400' } }),
  })
  short = await startFakeVendor('cohere', {
    fault: () => ({ body: { id: 'x', results: [{ index: 0, relevance_score: 0.9 }], meta: {} } }),
  })
  huge = await startHugeAnswerServer(200 * 1024 * 1024)
  const config = join(dir, 'router.yaml')
  writeFileSync(
    config,
    [
      'model_list:',
      ...group('denied', denied.url, 'tei'),
      ...group('denied-alone', denied.url, 'tei', true),
      ...group('limited', limited.url, 'cohere'),
      ...group('limited-alone', limited.url, 'cohere', true),
      ...group('short', short.url, 'cohere'),
      ...group('huge', huge.url, 'tei'),
      'router_settings:',
      '  routing_strategy: priority-failover',
      '  retry_after: 0',
    ].join('\n'),
  )
  server = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1'], {
    RERANKER_LOAD_BALANCER_ENABLED: 'true',
    RERANKER_CONFIG_PATH: config,
    RERANKER_LOG_LEVEL: 'debug',
    BACKEND_KEY: secret,
  })
  url = `http://127.0.0.1:${(await server.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]}`
  await server.waitFor(/ INFO {2}ready /)
}, 60_000)

afterAll(async () => {
  killSpawnedClis()
  await Promise.all([healthy, denied, limited, short, huge].map((backend) => backend?.close()))
  rmSync(dir, { recursive: true, force: true })
})

const rerank = (model: string) =>
  fetch(`${url}/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, query: 'red apple r1', documents, return_documents: false }),
  })

async function expectHealthyAnswer(model: string) {
  const response = await rerank(model)
  const body = (await response.json()) as { results: unknown }
  expect(response.status, JSON.stringify(body)).toBe(200)
  expect(body.results).toEqual(expected)
}

async function deploymentStats(id: string) {
  const stats = (await (await fetch(`${url}/lb/stats`)).json()) as {
    deployments: { id: string; failures: Record<string, number>; coolingUntil?: string }[]
  }
  return stats.deployments.find((deployment) => deployment.id === id)!
}

/** The server's resident set in bytes (Linux: /proc). */
const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024

describe('rerank-kit serve in load-balancer mode, hostile backends', () => {
  it('a 401 echoing the key: the healthy answer, or a 502 without the key; the key in no log line', async () => {
    await expectHealthyAnswer('denied')
    expect((await deploymentStats('denied#0')).coolingUntil).toBeDefined()
    const alone = await rerank('denied-alone')
    const text = await alone.text()
    expect(alone.status).toBe(502)
    expect(alone.headers.get('www-authenticate')).toBeNull()
    expect(JSON.parse(text)).toMatchObject({
      error: {
        code: 'upstream_error',
        message: expect.stringMatching(
          /^All deployments of "denied-alone" failed: denied-alone#0: upstream_error \(HTTP 401\); none left to try: denied-alone#0 is cooling down until /,
        ),
      },
    })
    expect(text).not.toContain(secret)
    await server.waitFor(/request failed .*Deployment denied-alone#0 answered HTTP 401/)
    expect(server.stderr()).not.toContain(secret)
  })

  it('a 429 asking for 86400 s: cooled down for 300 s at most, said in the log, Retry-After capped', async () => {
    const before = Date.now()
    await expectHealthyAnswer('limited')
    const until = Date.parse((await deploymentStats('limited#0')).coolingUntil!)
    expect(until).toBeGreaterThanOrEqual(before + 300_000)
    expect(until).toBeLessThanOrEqual(Date.now() + 300_000)
    await server.waitFor(
      /WARN {2}backend Retry-After capped {"deployment":"limited#0",.*"retryAfterMs":86400000,"cappedToMs":300000/,
    )
    const alone = await rerank('limited-alone')
    expect(alone.status).toBe(429)
    expect(Number(alone.headers.get('retry-after'))).toBe(300)
  })

  it('a 200 with one result for three documents: retried on the healthy deployment', async () => {
    await expectHealthyAnswer('short')
    expect((await deploymentStats('short#0')).failures).toEqual({ upstream_error: 1 })
    expect(short.requests).toHaveLength(1)
  })

  it('a 200 MB answer: the attempt fails early, the server stays small, the healthy one answers', async () => {
    const pid = server.child.pid!
    const rssBefore = rssOf(pid)
    const started = performance.now()
    await expectHealthyAnswer('huge')
    expect(performance.now() - started).toBeLessThan(10_000)
    expect(rssOf(pid) - rssBefore).toBeLessThan(64 * 1024 * 1024)
    expect(huge.sent).toBeLessThan(24 * 1024 * 1024)
    expect((await deploymentStats('huge#0')).failures).toEqual({ upstream_error: 1 })
  })
})
