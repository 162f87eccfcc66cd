import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import { createNodeListener } from './node-http'

// A LocalReranker whose model file is corrupt, served over HTTP as an app would (listening before the model is
// loaded): the process keeps answering, never says ready, and a rerank call fails at once with a clear status
// instead of waiting. (core is a dev dependency only: the server never imports it.)

const fixture = join(import.meta.dirname, '../../../fixtures/models/tiny-bert-reranker')

describe('HTTP in front of a LocalReranker whose model cannot load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rerank-kit-corrupt-model-'))
  let reranker: LocalReranker
  let url: string
  let close: () => Promise<unknown>

  beforeAll(async () => {
    cpSync(fixture, dir, { recursive: true })
    writeFileSync(join(dir, 'onnx/model.onnx'), 'not an ONNX protobuf')
    reranker = new LocalReranker({ models: [{ model: dir, name: 'broken', device: 'cpu', workers: 1 }] })
    const server = createServer(createNodeListener(createRerankHandler({ reranker })))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => new Promise((resolve) => server.close(resolve))
    // The load has failed once ready() rejects.
    await reranker.ready().catch(() => {})
  })
  afterAll(async () => {
    await close()
    await reranker.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('/health answers, /ready stays 503 saying failed (no Retry-After), rerank fails with a 500 in its format', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200)
    for (let i = 0; i < 3; i++) {
      const ready = await fetch(`${url}/ready`)
      expect(ready.status).toBe(503)
      expect(await ready.json()).toEqual({ status: 'failed' })
      // It will not recover by waiting: nothing asks a balancer or a client to retry.
      expect(ready.headers.get('retry-after')).toBeNull()
    }
    const response = await fetch(`${url}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'capital of France', documents: ['Paris.', 'Bananas.'] }),
    })
    expect(response.status).toBe(500)
    const body = (await response.json()) as { message: string }
    expect(typeof body.message).toBe('string')
    // The model's file path and the ONNX runtime's text stay in the server's log, not in the answer.
    expect(body.message).not.toContain(dir)
    expect(body.message).not.toMatch(/protobuf/i)
  })
})
