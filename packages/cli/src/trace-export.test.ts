import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureModel, killSpawnedClis, spawnCli } from './test-support/spawn-cli'
import { tracesUrl } from './trace-export'

// Two `rerank-kit serve` processes, a load balancer in front of a local-model server, each exporting its spans
// with RERANKER_OTLP_ENDPOINT to a collector in this test (OTLP over HTTP, JSON): one request makes one trace,
// the balancer's server span -> its attempt -> its client call -> the backend's server span (continued from
// the traceparent header) -> the backend's local model call.

interface ExportedSpan {
  service: string
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: Record<string, unknown>
}

const received: ExportedSpan[] = []
let collector: Server
let collectorUrl: string
let dir: string
let lbUrl: string
let backendUrl: string

/** OTLP JSON's attribute values ({ stringValue }, { intValue } as a string, ...) as plain values. */
function attributesOf(list: { key: string; value: Record<string, unknown> }[] = []) {
  const values: Record<string, unknown> = {}
  for (const { key, value } of list) {
    const [kind, raw] = Object.entries(value)[0] ?? []
    values[key] = kind === 'intValue' ? Number(raw) : raw
  }
  return values
}

function collect(body: string): void {
  for (const resourceSpans of JSON.parse(body).resourceSpans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'])
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        received.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
          name: span.name,
          kind: span.kind,
          attributes: attributesOf(span.attributes),
        })
      }
    }
  }
}

beforeAll(async () => {
  collector = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      if (request.url === '/v1/traces') collect(body)
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done))
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`
  const exporting = (service: string) => ({
    RERANKER_OTLP_ENDPOINT: collectorUrl,
    OTEL_SERVICE_NAME: service,
    OTEL_BSP_SCHEDULE_DELAY: '50',
  })
  const backend = spawnCli(['serve', '--host', '127.0.0.1', '--port', '0', '--model-path', fixtureModel], {
    ...exporting('backend'),
    RERANKER_ACCEPT_ANY_MODEL: 'true',
  })
  backendUrl = (await backend.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))![1]!
  await backend.waitFor(/ INFO {2}ready /)
  dir = mkdtempSync(join(tmpdir(), 'rerank-kit-otlp-'))
  const config = join(dir, 'router.yaml')
  writeFileSync(
    config,
    ['model_list:', '  - model_name: rerank', `    litellm_params: { api_base: "${backendUrl}" }`].join('\n'),
  )
  const lb = spawnCli(['serve', '--host', '127.0.0.1', '--port', '0'], {
    ...exporting('balancer'),
    RERANKER_LOAD_BALANCER_ENABLED: 'true',
    RERANKER_CONFIG_PATH: config,
  })
  lbUrl = (await lb.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))![1]!
  await lb.waitFor(/ INFO {2}ready /)
}, 60_000)

afterAll(async () => {
  killSpawnedClis()
  await new Promise((done) => collector?.close(done))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const rerank = (headers: Record<string, string> = {}) =>
  fetch(`${lbUrl}/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'rerank', query: 'red apple', documents: ['green pear', 'red apple pie'] }),
  })

/** The spans of one trace, once both processes have sent the five of them. */
async function traceOf(traceId: string, count = 5): Promise<ExportedSpan[]> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const spans = received.filter((span) => span.traceId === traceId)
    if (spans.length >= count || Date.now() > deadline) return spans
    await new Promise((done) => setTimeout(done, 50))
  }
}

const one = (spans: ExportedSpan[], service: string, name: string) => {
  const found = spans.filter((span) => span.service === service && span.name === name)
  expect(found, `${service} ${name}`).toHaveLength(1)
  return found[0]!
}

describe('RERANKER_OTLP_ENDPOINT: one trace across the balancer and its backend', () => {
  it('continues the caller traceparent through the attempt and the client call into the backend', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const callerSpan = '00f067aa0ba902b7'
    const answer = await rerank({ traceparent: `00-${traceId}-${callerSpan}-01` })
    expect(answer.status).toBe(200)
    const spans = await traceOf(traceId)
    expect(spans.map((span) => `${span.service} ${span.name}`).sort()).toEqual([
      'backend POST /rerank',
      'backend rerank.local',
      'balancer POST /rerank',
      'balancer POST /rerank',
      'balancer rerank.attempt',
    ])
    const [lbServer, lbClient] = [2, 3].map((kind) =>
      spans.find((span) => span.service === 'balancer' && span.kind === kind),
    )
    const attempt = one(spans, 'balancer', 'rerank.attempt')
    const backendServer = one(spans, 'backend', 'POST /rerank')
    const local = one(spans, 'backend', 'rerank.local')
    // The tree: caller -> LB server (SERVER = 2) -> attempt -> client (CLIENT = 3) -> backend server -> local.
    expect(lbServer!.parentSpanId).toBe(callerSpan)
    expect(attempt.parentSpanId).toBe(lbServer!.spanId)
    expect(lbClient!.parentSpanId).toBe(attempt.spanId)
    expect(backendServer.parentSpanId).toBe(lbClient!.spanId)
    expect(backendServer.kind).toBe(2)
    expect(local.parentSpanId).toBe(backendServer.spanId)
    expect(lbServer!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/rerank',
      'http.response.status_code': 200,
      'gen_ai.operation.name': 'rerank',
      'gen_ai.request.model': 'rerank',
      'rerank.documents.count': 2,
      'rerank.results.count': 2,
    })
    expect(attempt.attributes).toEqual({
      'rerank.group': 'rerank',
      'rerank.deployment.id': 'rerank#0',
      'rerank.attempt': 1,
    })
    expect(lbClient!.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(backendUrl).port),
      'url.path': '/rerank',
      'rerank.format': 'native',
      'rerank.documents.count': 2,
    })
    // No URL with a key, nor a header, in any attribute.
    for (const span of spans) expect(JSON.stringify(span.attributes)).not.toMatch(/https?:\/\//)
    expect(local.attributes['rerank.documents.count']).toBe(2)
    expect(local.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0)
    expect(local.attributes['rerank.inference_ms']).toBeGreaterThanOrEqual(0)
  })

  it('starts a trace at the balancer when the caller sent none, and marks a failed call', async () => {
    const before = new Set(received.map((span) => span.traceId))
    expect((await rerank()).status).toBe(200)
    const bad = await fetch(`${lbUrl}/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'rerank', query: 'q', documents: 'not a list' }),
    })
    expect(bad.status).toBe(400)
    const deadline = Date.now() + 15_000
    let roots: ExportedSpan[] = []
    while (Date.now() < deadline) {
      roots = received.filter((span) => !before.has(span.traceId) && span.parentSpanId === undefined)
      if (roots.length >= 2) break
      await new Promise((done) => setTimeout(done, 50))
    }
    expect(roots.map((span) => span.attributes['http.response.status_code']).sort()).toEqual([200, 400])
    const failed = roots.find((span) => span.attributes['http.response.status_code'] === 400)!
    // A 4xx is the caller's error: named, the span not marked failed (server conventions).
    expect(failed.attributes['error.type']).toBe('invalid_request')
    const ok = roots.find((span) => span.attributes['http.response.status_code'] === 200)!
    const rest = await traceOf(ok.traceId)
    expect(rest.filter((span) => span.service === 'backend')).toHaveLength(2)
  })
})

describe('tracesUrl', () => {
  it('adds /v1/traces to a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT does, and keeps a full one', () => {
    expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces')
    expect(tracesUrl('http://collector:4318/')).toBe('http://collector:4318/v1/traces')
    expect(tracesUrl('https://otel.example/v1/traces')).toBe('https://otel.example/v1/traces')
  })
})
