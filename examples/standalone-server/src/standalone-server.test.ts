import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Reranker, type RerankRequest, rankScores } from '@rerank-kit/protocol'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

// The real standalone server as a separate process (tsx, from source), on port 0, serving a fixture model
// or, in load-balancer mode, routing to a rerank-kit backend that runs in this test process.

const here = join(import.meta.dirname, '..')
const fixture = join(here, '../../fixtures/models/tiny-bert-reranker')
const running: ChildProcess[] = []

function start(args: string[], env: Record<string, string> = {}) {
  // node with tsx's loader, not the tsx CLI: the CLI is a second process, and the SIGKILL of afterEach would
  // leave the server behind it running.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@rerank-kit/source', 'src/main.ts', ...args],
    {
      cwd: here,
      env: { ...process.env, ...env },
    },
  )
  running.push(child)
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const waitFor = async (pattern: RegExp) => {
    for (let i = 0; i < 600; i++) {
      const match = pattern.exec(output)
      if (match) return match
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`timed out waiting for ${pattern} in:\n${output}`)
  }
  return { child, exited, waitFor, output: () => output }
}

afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL')
})

describe('standalone server', () => {
  it('serves a fixture model, then finishes in-flight work on SIGTERM and exits 0', async () => {
    const server = start(['--model-path', fixture, '--port', '0', '--host', '127.0.0.1'])
    const [, url] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))!
    await server.waitFor(/ INFO {2}ready /)
    const response = await fetch(`${url}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tiny-bert-reranker',
        query: 'capital of France',
        documents: ['Paris.', 'Bananas.'],
      }),
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { results: { relevance_score: number }[] }
    expect(body.results).toHaveLength(2)
    expect(body.results[0]!.relevance_score).toBeGreaterThan(0)

    const many = Array.from({ length: 3000 }, (_, i) => `document number ${i} about bananas and France`)
    const inFlight = fetch(`${url}/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'capital of France', documents: many, return_documents: false }),
    })
    await new Promise((resolve) => setTimeout(resolve, 150))
    server.child.kill('SIGTERM')
    const finished = await inFlight
    expect(finished.status).toBe(200)
    expect(((await finished.json()) as { results: unknown[] }).results).toHaveLength(3000)
    expect(await server.exited).toBe(0)
    expect(server.output()).toMatch(/SIGTERM: no new connections; finishing requests in flight[\s\S]*stopped/)
  })

  it('stops at start with exit code 2 naming a bad setting', async () => {
    const bad = start([], { RERANKER_PORT: 'eighty' })
    expect(await bad.exited).toBe(2)
    expect(bad.output()).toContain('rerank-kit: Invalid RERANKER_PORT="eighty" (from the environment)')
    const unknown = start([], { RERANKER_MODLE_NAME: 'x' })
    expect(await unknown.exited).toBe(2)
    expect(unknown.output()).toContain('Unknown setting RERANKER_MODLE_NAME')
  })

  it('fails with exit code 1 and the reason when the model cannot load offline', async () => {
    const server = start(
      ['--model-name', 'org/not-cached', '--use-offline-mode', '--port', '0', '--host', '127.0.0.1'],
      {
        RERANKER_MODEL_CACHE_DIR: join(here, 'no-such-cache'),
      },
    )
    expect(await server.exited).toBe(1)
    expect(server.output()).toMatch(
      /could not load the model: Model "org\/not-cached" is not available offline: missing/,
    )
  })
})

// A backend with known scores, so answers through the router can be checked exactly; it wants its own key,
// which only the config knows.
const backendKey = 'sk-backend-only-in-the-config'
const received: RerankRequest[] = []
const scored: Reranker = {
  async rerank(request) {
    received.push(request)
    const scores = request.documents.map((document) => (String(document).includes('Paris') ? 0.75 : 0.25))
    return { model: 'stub', results: rankScores(request, scores) }
  },
}
let backend: Server
let backendUrl: string
let deadUrl: string
const dir = mkdtempSync(join(tmpdir(), 'rerank-kit-lb-'))

function configFile(name: string, yaml: string): string {
  const path = join(dir, name)
  writeFileSync(path, yaml)
  return path
}

function startBalancer(configPath: string, args: string[] = []) {
  return start(['--port', '0', '--host', '127.0.0.1', ...args], {
    RERANKER_LOAD_BALANCER_ENABLED: 'true',
    RERANKER_CONFIG_PATH: configPath,
  })
}

const rerankBody = JSON.stringify({
  model: 'rerank',
  query: 'capital of France',
  documents: ['Bananas.', 'Paris.'],
})
const post = (url: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: rerankBody })

describe('standalone server in load-balancer mode', () => {
  beforeAll(async () => {
    backend = createServer(
      createNodeListener(createRerankHandler({ reranker: scored, apiKeys: [backendKey] })),
    )
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`
    // A port that was just free and is closed again: connections to it are refused.
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((resolve) => closed.close(resolve))
  })
  afterAll(async () => {
    backend.closeAllConnections()
    await new Promise((resolve) => backend.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  it('routes to the configured backend with its key, loads no model, and keeps the key out of stats', async () => {
    const config = configFile(
      'remote.yaml',
      [
        'model_list:',
        '  - model_name: rerank',
        '    litellm_params:',
        '      model: upstream-model',
        `      api_base: ${backendUrl}`,
        `      api_key: ${backendKey}`,
        '      rpm: 600',
        'router_settings:',
        '  num_retries: 0',
      ].join('\n'),
    )
    // A model path that does not exist: a config without local deployments must never try to load it.
    const server = startBalancer(config, ['--model-path', join(dir, 'no-model-here')])
    const [, url] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))!
    await server.waitFor(/ INFO {2}ready /)
    expect((await fetch(`${url}/ready`)).status).toBe(200)

    const response = await post(`${url}/v1/rerank`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { results: unknown[] }
    expect(body.results).toEqual([
      { index: 1, relevance_score: 0.75 },
      { index: 0, relevance_score: 0.25 },
    ])
    // The group name stays here; the backend is asked for the deployment's own model.
    expect(received.at(-1)).toMatchObject({ model: 'upstream-model', query: 'capital of France' })

    const statsResponse = await fetch(`${url}/lb/stats`)
    const statsText = await statsResponse.text()
    expect(statsResponse.status).toBe(200)
    expect(JSON.parse(statsText)).toMatchObject({
      strategy: 'simple-shuffle',
      state: 'memory',
      deployments: [{ id: 'rerank#0', group: 'rerank', requests: 1, successes: 1, rpmUsed: 1, rpm: 600 }],
    })
    for (const secret of [backendKey, backendUrl]) {
      expect(statsText).not.toContain(secret)
      expect((await (await fetch(`${url}/metrics`)).text()).includes(secret)).toBe(false)
    }

    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(server.output()).not.toContain(backendKey)
    expect(server.output()).not.toContain('could not load')
  })

  it('falls back to the local model (loaded because the config asks for it) when the backend is down', async () => {
    const config = configFile(
      'fallback.yaml',
      [
        'model_list:',
        '  - model_name: rerank',
        '    litellm_params:',
        `      api_base: ${deadUrl}`,
        'router_settings:',
        '  num_retries: 0',
        '  fallback_to_local: true',
      ].join('\n'),
    )
    const server = startBalancer(config, ['--model-path', fixture])
    const [, url] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))!
    expect(server.output()).toContain('tiny-bert-reranker')
    await server.waitFor(/ INFO {2}ready /)
    const response = await post(`${url}/v1/rerank`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { results: { index: number; relevance_score: number }[] }
    expect(body.results.map((result) => result.index).sort()).toEqual([0, 1])
    expect(body.results[0]!.relevance_score).toBeGreaterThan(0)
    const stats = (await (await fetch(`${url}/lb/stats`)).json()) as {
      deployments: { id: string; failures: Record<string, number> }[]
    }
    expect(stats.deployments).toEqual([
      expect.objectContaining({ id: 'rerank#0', failures: { network_error: 1 } }),
    ])
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it('stops at start with exit code 2 naming the bad key and the file, never its values', async () => {
    const bad = configFile(
      'bad.yaml',
      [
        'model_list:',
        '  - model_name: rerank',
        '    litellm_params:',
        `      api_base: ${backendUrl}`,
        `      api_key: ${backendKey}`,
        '      rpm: lots',
      ].join('\n'),
    )
    const server = startBalancer(bad)
    expect(await server.exited).toBe(2)
    expect(server.output()).toContain(
      `rerank-kit: Invalid router config in ${bad}: model_list[0].litellm_params.rpm: expected a number`,
    )
    expect(server.output()).not.toContain(backendKey)
    expect(server.output()).not.toContain('listening')

    const missing = startBalancer(join(dir, 'absent.yaml'))
    expect(await missing.exited).toBe(2)
    expect(missing.output()).toContain('absent.yaml: cannot read the file (ENOENT)')
  })
})
