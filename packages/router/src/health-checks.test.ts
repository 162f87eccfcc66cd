import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RerankError, type Reranker, rankScores } from '@rerank-kit/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { HealthChecker, httpHealthCheck, rerankHealthCheck } from './health-checks'
import { Router } from './router'

// Active health checks: the probes themselves against real HTTP, and what the router does with their results.

const servers: Server[] = []
const routers: Router[] = []
afterEach(async () => {
  await Promise.all(routers.splice(0).map((router) => router.close()))
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A server whose /health answers `status()`, or never answers while `hang` is set. */
async function healthServer(status: () => number, hang = () => false) {
  const hits: string[] = []
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} auth=${req.headers.authorization ?? '-'}`)
    if (hang()) return
    res.writeHead(status(), { 'content-type': 'application/json' }).end('{"status":"ok"}')
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits }
}

/** A deployment that fails while `down.value` is set, and counts the requests it served. */
function switchable(name: string) {
  const down = { value: false }
  const served: string[] = []
  const reranker: Reranker = {
    async rerank(request) {
      if (down.value) throw new RerankError('upstream_error', 'HTTP 503', { upstreamStatus: 503 })
      served.push(request.query)
      return { model: name, results: rankScores(request, [0.25]) }
    },
  }
  return { reranker, down, served }
}

const userQueries = (served: string[]) => served.filter((query) => query !== 'health check')

describe('httpHealthCheck', () => {
  it('is healthy on 2xx, names the status otherwise, times out a hanging backend, and sends no key', async () => {
    let status = 200
    let hang = false
    const backend = await healthServer(
      () => status,
      () => hang,
    )
    const check = httpHealthCheck(`${backend.url}/health`)

    await expect(check(AbortSignal.timeout(2_000))).resolves.toBeUndefined()
    status = 503
    await expect(check(AbortSignal.timeout(2_000))).rejects.toMatchObject({
      code: 'upstream_error',
      upstreamStatus: 503,
      message: 'Health check answered HTTP 503',
    })
    hang = true
    await expect(check(AbortSignal.timeout(50))).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(backend.hits).toEqual(['GET /health auth=-', 'GET /health auth=-', 'GET /health auth=-'])
  })
})

describe('rerankHealthCheck', () => {
  it('sends a one-document rerank through the deployment and fails with its error', async () => {
    const deployment = switchable('a')
    await rerankHealthCheck(deployment.reranker)(AbortSignal.timeout(1_000))
    expect(deployment.served).toEqual(['health check'])
    deployment.down.value = true
    await expect(rerankHealthCheck(deployment.reranker)(AbortSignal.timeout(1_000))).rejects.toMatchObject({
      code: 'upstream_error',
      upstreamStatus: 503,
    })
  })
})

describe('HealthChecker', () => {
  it('reports each target, turns a hanging probe into a timeout, and joins a round in progress', async () => {
    const results: string[] = []
    let hangingProbes = 0
    const checker = new HealthChecker(
      [
        { id: 'fine', check: async () => {} },
        {
          id: 'hangs',
          check: (signal) =>
            new Promise((_, reject) => {
              hangingProbes++
              signal.addEventListener('abort', () => reject(signal.reason))
            }),
        },
      ],
      {
        intervalMs: 60_000,
        timeoutMs: 30,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        onResult: (target, error) => {
          results.push(`${target.id}:${error?.code ?? 'healthy'}`)
        },
      },
    )
    const first = checker.checkAll()
    // A second call while the round runs joins it instead of probing again.
    expect(checker.checkAll()).toBe(first)
    await first
    expect(hangingProbes).toBe(1)
    expect(results.sort()).toEqual(['fine:healthy', 'hangs:timeout'])
    await checker.stop()
  })

  it('keeps going when recording a result throws, and logs it without the error text', async () => {
    const warnings: unknown[] = []
    const checker = new HealthChecker([{ id: 'a', check: async () => {} }], {
      intervalMs: 60_000,
      logger: { debug() {}, info() {}, warn: (...args) => warnings.push(args), error() {} },
      onResult: () => {
        throw new Error('state store down: redis://:hunter2@host')
      },
    })
    await checker.checkAll()
    await checker.checkAll()
    expect(warnings).toEqual([
      ['health check result not recorded', { deployment: 'a', code: 'internal' }],
      ['health check result not recorded', { deployment: 'a', code: 'internal' }],
    ])
  })
})

describe('Router with health checks', () => {
  it('a failed probe takes a deployment out of rotation; a passing one brings it back before the cooldown ends', async () => {
    const a = switchable('a')
    const b = switchable('b')
    const router = new Router({
      routingStrategy: 'round-robin',
      cooldownTimeMs: 60_000,
      healthCheckIntervalMs: 3_600_000,
      deployments: [
        { id: 'a', modelName: 'g', reranker: a.reranker },
        { id: 'b', modelName: 'g', reranker: b.reranker },
      ],
    })
    routers.push(router)
    await router.checkHealth()
    expect(a.served).toEqual(['health check'])
    expect(b.served).toEqual(['health check'])

    a.down.value = true
    await router.checkHealth()
    const cooling = (await router.stats()).deployments.find((deployment) => deployment.id === 'a')!
    expect(cooling.health).toMatchObject({ healthy: false, code: 'upstream_error' })
    expect(Date.parse(cooling.coolingUntil!) - Date.now()).toBeGreaterThan(50_000)
    // Every request goes to b while a cools down: no user request is spent finding out a is down.
    for (let i = 0; i < 4; i++) await router.rerank({ query: `q${i}`, documents: ['d'] })
    expect(userQueries(b.served)).toEqual(['q0', 'q1', 'q2', 'q3'])

    a.down.value = false
    await router.checkHealth()
    const back = (await router.stats()).deployments.find((deployment) => deployment.id === 'a')!
    expect(back.health).toMatchObject({ healthy: true })
    expect(back.health).not.toHaveProperty('code')
    expect(back.coolingUntil).toBeUndefined()
    for (let i = 4; i < 8; i++) await router.rerank({ query: `q${i}`, documents: ['d'] })
    expect(userQueries(a.served)).toHaveLength(2)
  })

  it('probes on its own at start and then every interval, and close() stops the probes', async () => {
    const a = switchable('a')
    const router = new Router({
      healthCheckIntervalMs: 40,
      deployments: [{ id: 'a', modelName: 'g', reranker: a.reranker }],
    })
    routers.push(router)
    await expect.poll(() => a.served.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(3)
    await router.close()
    const after = a.served.length
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(a.served.length).toBe(after)
  })

  it('uses a deployment health path instead of a rerank when one is given', async () => {
    const backend = await healthServer(() => 503)
    const a = switchable('a')
    const router = new Router({
      healthCheckIntervalMs: 3_600_000,
      deployments: [
        {
          id: 'a',
          modelName: 'g',
          reranker: a.reranker,
          healthCheck: httpHealthCheck(`${backend.url}/health`),
        },
      ],
    })
    routers.push(router)
    await router.checkHealth()
    expect(a.served).toEqual([])
    expect(backend.hits.length).toBeGreaterThanOrEqual(1)
    const [stats] = (await router.stats()).deployments
    expect(stats!.health).toMatchObject({ healthy: false, code: 'upstream_error' })
    await expect(router.rerank({ query: 'q', documents: ['d'] })).rejects.toMatchObject({
      code: 'overloaded',
      message: expect.stringMatching(/^No deployment of "g" is available: a is cooling down until /),
    })
  })
})
