import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FakeHub } from '../../core/src/model-files/fake-hub-server'
import { killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// `check` for a model that is not cached asks the hub (HF_ENDPOINT: a hub laid out like huggingface.co on
// loopback, or a closed port) with one HEAD of the first file serve would download.

async function check(env: Record<string, string>, model = 'org/tiny-bert') {
  const command = spawnCli(
    ['check', '--model-name', model, '--model-cache-dir', cache, '--workers', '1'],
    env,
  )
  const code = await command.exited
  return { code, stdout: command.stdout(), stderr: command.stderr() }
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((done) => server.close(() => done()))
  return port
}

let hub: FakeHub
let cache: string
beforeAll(async () => {
  hub = await FakeHub.start()
  await hub.addModel('org/tiny-bert', 'main', { 'config.json': '{}' })
  cache = await mkdtemp(join(tmpdir(), 'rerank-kit-check-hub-'))
})
afterAll(async () => {
  await hub?.close()
  await rm(cache, { recursive: true, force: true })
})
afterEach(killSpawnedClis)

describe('rerank-kit check, model not cached', () => {
  it('says the hub is reachable after one HEAD of config.json, and downloads nothing', async () => {
    const before = hub.requests.length
    const result = await check({ HF_ENDPOINT: hub.url })
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toContain(`"org/tiny-bert" is not cached: serve would download it from ${hub.url}`)
    expect(result.stdout).toMatch(
      new RegExp(`reachable: HEAD ${hub.url}/org/tiny-bert/resolve/main/config.json answered 200 in \\d+ ms`),
    )
    expect(hub.requests.slice(before)).toEqual([
      { method: 'HEAD', path: '/org/tiny-bert/resolve/main/config.json', file: 'config.json' },
    ])
  })

  it('exits 1 naming the cause when nothing listens at the hub address', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`
    const result = await check({ HF_ENDPOINT: endpoint })
    expect(result.code).toBe(1)
    expect(result.stdout).toContain(
      `"org/tiny-bert" is not cached and serve could not download it: ${endpoint}/org/tiny-bert/resolve/main/config.json ECONNREFUSED`,
    )
    expect(result.stdout).toContain('set HF_ENDPOINT to a mirror')
    expect(result.stdout).not.toMatch(/serve would download/)
  })

  it('exits 1 when the hub refuses: a model it does not have, a gated one without HF_TOKEN', async () => {
    const absent = await check({ HF_ENDPOINT: hub.url }, 'org/absent')
    expect(absent.code).toBe(1)
    expect(absent.stdout).toContain('answered 404: no such model')

    hub.requireToken = 'hf_secret'
    try {
      const gated = await check({ HF_ENDPOINT: hub.url })
      expect(gated.code).toBe(1)
      expect(gated.stdout).toContain('answered 401: the model is private or gated (set HF_TOKEN)')
      const allowed = await check({ HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_secret' })
      expect(allowed.code, allowed.stdout).toBe(0)
      expect(allowed.stdout + allowed.stderr).not.toContain('hf_secret')
      expect(hub.requests.at(-1)?.authorization).toBe('Bearer hf_secret')
    } finally {
      hub.requireToken = undefined
    }
  })

  it('gives up after 5 s when the hub does not answer', async () => {
    hub.delayMs = 8_000
    try {
      const started = Date.now()
      const result = await check({ HF_ENDPOINT: hub.url })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain('config.json no answer within 5 s')
      expect(Date.now() - started).toBeLessThan(8_000)
    } finally {
      hub.delayMs = 0
    }
  }, 20_000)
})
