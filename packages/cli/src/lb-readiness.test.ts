import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeVendor, startFakeVendor } from '../../client/src/test-support/fake-vendors'
import { parsePrometheus } from '../../server/src/test-support/parse-prometheus'
import { killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// `rerank-kit serve` in load-balancer mode in front of a backend that fails, then recovers: /ready tells a
// balancer in front when no group can serve (and why), /health stays liveness only, and a request that failed
// everywhere says which deployment failed and how, with the vendor's own words in our error body.

let dir: string
let backend: FakeVendor
let failing = false
let server: ReturnType<typeof spawnCli>
let url: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rerank-kit-lb-ready-'))
  backend = await startFakeVendor('cohere', {
    fault: () => (failing ? { status: 500, message: 'model overloaded, try later' } : undefined),
  })
  const config = join(dir, 'router.yaml')
  writeFileSync(
    config,
    [
      'model_list:',
      '  - model_name: rerank',
      `    litellm_params: { model: cohere/rerank-v3.5, api_base: "${backend.url}" }`,
      'router_settings:',
      '  num_retries: 0',
      '  allowed_fails: 0',
      '  cooldown_time: 1',
    ].join('\n'),
  )
  server = spawnCli(['serve', '--host', '127.0.0.1', '--port', '0'], {
    RERANKER_LOAD_BALANCER_ENABLED: 'true',
    RERANKER_CONFIG_PATH: config,
  })
  url = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))![1]!
  await server.waitFor(/ INFO {2}ready /)
})

afterAll(async () => {
  killSpawnedClis()
  await backend?.close()
  rmSync(dir, { recursive: true, force: true })
})

const rerank = () =>
  fetch(`${url}/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'rerank', query: 'red apple', documents: ['green pear', 'red apple pie'] }),
  })

/** The router's series for rerank#0, from /metrics parsed as Prometheus text. */
const routerSeries = async () => {
  const families = parsePrometheus(await (await fetch(`${url}/metrics`)).text())
  const sample = (name: string, labels: Record<string, string>) =>
    families
      .find((family) => family.name === name)
      ?.metrics.find((metric) => Object.entries(labels).every(([k, v]) => metric.labels?.[k] === v))
  const value = (name: string, labels: Record<string, string> = {}) =>
    Number(sample(name, labels)?.value ?? Number.NaN)
  const deployment = { group: 'rerank', deployment: 'rerank#0' }
  return {
    successes: value('rerank_kit_router_requests_total', { ...deployment, outcome: 'success' }),
    failures: value('rerank_kit_router_requests_total', { ...deployment, outcome: 'upstream_error' }),
    coolingDown: value('rerank_kit_router_cooling_down', deployment),
    rpmUsed: value('rerank_kit_router_rpm_used', deployment),
    memoryState: value('rerank_kit_router_state', { state: 'memory' }),
    redisState: value('rerank_kit_router_state', { state: 'redis' }),
    // The attempt-duration histogram counts every call, failed ones too.
    attempts: Number(sample('rerank_kit_router_attempt_duration_seconds', deployment)?.count ?? Number.NaN),
  }
}

const ready = async () => {
  const response = await fetch(`${url}/ready`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('load balancer readiness and errors', () => {
  it('/ready flips to 503 with the reason while the only backend cools down, and back once it recovers', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } })
    const first = await rerank()
    expect(first.status).toBe(200)
    // Who answered, by id (never its URL), and after how many attempts.
    expect(first.headers.get('x-rerank-deployment')).toBe('rerank#0')
    expect(first.headers.get('x-rerank-attempts')).toBe('1')
    expect(await routerSeries()).toEqual({
      successes: 1,
      failures: Number.NaN,
      coolingDown: 0,
      rpmUsed: 1,
      memoryState: 1,
      redisState: 0,
      attempts: 1,
    })

    failing = true
    const failed = await rerank()
    expect(failed.status).toBe(502)
    expect(failed.headers.get('x-rerank-attempts')).toBe('1')
    expect(failed.headers.get('x-rerank-deployment')).toBeNull()
    const body = (await failed.json()) as { error: { code: string; message: string; details?: unknown } }
    expect(body.error.code).toBe('upstream_error')
    expect(body.error.message).toBe('All deployments of "rerank" failed: rerank#0: upstream_error (HTTP 500)')
    expect(body.error.details).toEqual({
      attempts: [
        {
          deployment: 'rerank#0',
          group: 'rerank',
          code: 'upstream_error',
          status: 500,
          message: expect.stringContaining('model overloaded, try later'),
        },
      ],
    })
    expect(JSON.stringify(body)).not.toContain(backend.url)

    const down = await ready()
    expect(down.status).toBe(503)
    expect(down.body.status).toBe('unavailable')
    expect(down.body.reason).toMatch(/^No group can serve: "rerank": rerank#0 is cooling down until /)
    expect(await routerSeries()).toMatchObject({ successes: 1, failures: 1, coolingDown: 1, attempts: 2 })
    // Liveness is not readiness.
    expect((await fetch(`${url}/health`)).status).toBe(200)
    // While it cools down the request is refused at once, with when to come back.
    const refused = await rerank()
    expect(refused.status).toBe(503)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)

    failing = false
    // The cooldown is 1 s: then the deployment is back on trial, and /ready says so before any request.
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } })
    const recovered = await rerank()
    expect(recovered.status).toBe(200)
    const answer = (await recovered.json()) as { results: { index: number }[] }
    expect(answer.results.map((result) => result.index)).toEqual([1, 0])
    // The refused request (cooling down) made no attempt.
    expect(await routerSeries()).toMatchObject({ successes: 2, failures: 1, coolingDown: 0, attempts: 3 })
  })
})
