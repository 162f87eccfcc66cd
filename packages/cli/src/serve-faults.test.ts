import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { fixtureModel, killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// `rerank-kit serve` as a separate process (from source, like cli.test.ts) meeting faults: a model file that
// cannot load, and SIGTERM while a hundred requests are in flight.

const fixture = fixtureModel
const dirs: string[] = []

afterEach(killSpawnedClis)
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const serve = (args: string[]) => spawnCli(['serve', ...args])

describe('rerank-kit serve with a model that cannot load', () => {
  it('a corrupt ONNX file: exit code 1 and a message naming the file and the failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rerank-kit-corrupt-model-'))
    dirs.push(dir)
    cpSync(fixture, dir, { recursive: true })
    writeFileSync(join(dir, 'onnx/model.onnx'), 'not an ONNX protobuf')
    const server = serve(['--model-path', dir, '--port', '0', '--host', '127.0.0.1', '--device', 'cpu'])
    expect(await server.exited).toBe(1)
    expect(server.stderr()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/)
    expect(server.stderr()).toContain(
      `ERROR could not load the model: Could not start the model on cpu: cpu: Load model from ${join(dir, 'onnx/model.onnx')} failed:Protobuf parsing failed.`,
    )
    expect(server.stderr()).not.toMatch(/ INFO {2}ready /)
  })
})

describe('rerank-kit serve stopped by SIGTERM under load', () => {
  it('answers every request it accepted with the in-process scores, refuses new connections, exits 0', async () => {
    const query = 'what is the capital of France'
    // Different documents per request: an answer given to the wrong request would not match.
    const requests = Array.from({ length: 100 }, (_, r) =>
      Array.from(
        { length: 40 },
        (_, d) => `Request ${r}, document ${d}: Paris is on the Seine, ${(r * 7 + d) % 13} km.`,
      ),
    )
    const local = await LocalReranker.create({ models: [{ model: fixture, device: 'cpu', workers: 1 }] })
    const expected = await Promise.all(
      requests.map(async (documents) => {
        const { results } = await local.rerank({ query, documents })
        return results.sort((a, b) => a.index - b.index).map((result) => result.score)
      }),
    )
    await local.close()

    // A long deadline: this test is about stopping, not admission. With the default (30 s, so a 15 s queue
    // budget) a slow machine refused the burst now and then, its drain rate measured while the main thread was
    // still reading the burst's 4,000 pairs.
    const server = serve([
      ...['--model-path', fixture, '--port', '0', '--host', '127.0.0.1', '--device', 'cpu'],
      ...['--request-timeout', '120000'],
    ])
    const port = Number((await server.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/))[1])
    await server.waitFor(/ INFO {2}ready /)

    // Each client on its own keep-alive connection, accepted by the server (it answered /health on it) before the
    // rerank request goes out on the same connection. A connection still in the listen backlog when the server
    // stops listening is reset by the kernel: it never was the server's (node accepts one connection per turn of
    // its event loop, so a busy server can have many there).
    let sent = 0
    let sigtermSent = false
    const agents = requests.map(() => new Agent({ keepAlive: true, maxSockets: 1 }))
    const get = (agent: Agent, path: string, body?: string) =>
      new Promise<{
        status: number | undefined
        body: string
        reused: boolean
        afterSigterm: boolean
        error?: string
      }>((resolve) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path,
            agent,
            method: body === undefined ? 'GET' : 'POST',
            headers: body === undefined ? {} : { 'content-type': 'application/json' },
          },
          (res) => {
            let text = ''
            res.on('data', (chunk: Buffer) => {
              text += chunk.toString()
            })
            res.on('end', () =>
              resolve({
                status: res.statusCode,
                body: text,
                reused: req.reusedSocket,
                afterSigterm: sigtermSent,
              }),
            )
          },
        )
        req.on('error', (error) =>
          resolve({
            status: undefined,
            body: '',
            reused: req.reusedSocket,
            afterSigterm: sigtermSent,
            error: error.message,
          }),
        )
        req.end(body, () => {
          if (body !== undefined) sent++
        })
      })
    const health = await Promise.all(agents.map((agent) => get(agent, '/health')))
    expect(health.map((answer) => answer.status)).toEqual(requests.map(() => 200))
    const answers = requests.map((documents, r) =>
      get(agents[r]!, '/rerank', JSON.stringify({ query, documents, return_documents: false })),
    )
    // SIGTERM once every request is written, while they are being read and scored. "Written" is into the kernel:
    // a request the server has not read yet arrives on a connection that looks idle, and stopping closes idle
    // keep-alive connections (HTTP lets a server do so; clients retry). A short pause lets the busy server read
    // them (without it the test failed now and then on a loaded machine). The work (4,000 pairs) lasts longer.
    while (sent < requests.length) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 150))
    server.child.kill('SIGTERM')
    sigtermSent = true
    await server.waitFor(/SIGTERM: no new connections/)
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve('connected')
      })
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    })
    expect(refused).toBe('ECONNREFUSED')

    const results = await Promise.all(answers)
    for (const agent of agents) agent.destroy()
    expect(results.filter((answer) => answer.status !== 200 || !answer.reused)).toEqual([])
    // They were in flight: answers came after the signal.
    expect(results.filter((answer) => answer.afterSigterm).length).toBeGreaterThan(0)
    results.forEach((answer, r) => {
      const body = JSON.parse(answer.body) as { results: { index: number; relevance_score: number }[] }
      const scores = body.results.sort((a, b) => a.index - b.index).map((result) => result.relevance_score)
      expect(scores).toHaveLength(40)
      scores.forEach((score, d) => {
        expect(Math.abs(score - expected[r]![d]!), `request ${r} document ${d}`).toBeLessThan(1e-6)
      })
    })
    expect(await server.exited).toBe(0)
    expect(server.stderr()).toMatch(/SIGTERM: no new connections; finishing requests in flight[\s\S]*stopped/)
  })
})
