import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

// The real standalone server as a separate process (tsx, from source), on port 0, serving a fixture model.

const here = join(import.meta.dirname, '..')
const fixture = join(here, '../../fixtures/models/tiny-bert-reranker')
const running: ChildProcess[] = []

function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(
    join(here, 'node_modules/.bin/tsx'),
    ['--conditions=@rerank-kit/source', 'src/main.ts', ...args],
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
