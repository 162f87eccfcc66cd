import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FakeHub } from '../../core/src/model-files/fake-hub-server'
import { fixtureModel, killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// A taken port must fail before the model is fetched or loaded: with a download of minutes, the operator
// would otherwise learn of the clash only at the end.

let taken: Server
let port: number
let hub: FakeHub
let cache: string
beforeAll(async () => {
  taken = createServer()
  await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done))
  port = (taken.address() as AddressInfo).port
  hub = await FakeHub.start()
  cache = await mkdtemp(join(tmpdir(), 'rerank-kit-port-taken-'))
})
afterAll(async () => {
  await new Promise<void>((done) => taken.close(() => done()))
  await hub?.close()
  await rm(cache, { recursive: true, force: true })
})
afterEach(killSpawnedClis)

describe('rerank-kit serve on a taken port', () => {
  it('fails with EADDRINUSE before asking the hub for the model', async () => {
    const command = spawnCli(
      ['serve', '--host', '127.0.0.1', '--port', String(port), '--model-name', 'org/tiny-bert'],
      { HF_ENDPOINT: hub.url, RERANKER_MODEL_CACHE_DIR: cache },
    )
    expect(await command.exited, command.stderr()).toBe(1)
    expect(command.stderr()).toContain(`cannot listen on 127.0.0.1:${port}`)
    expect(command.stderr()).toContain('EADDRINUSE')
    expect(hub.requests).toEqual([])
  })

  it('fails before loading a local model: no log line of the model at all', async () => {
    const command = spawnCli([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--model-path',
      fixtureModel,
      '--log-level',
      'debug',
    ])
    expect(await command.exited, command.stderr()).toBe(1)
    const log = command.stderr()
    expect(log).toContain('EADDRINUSE')
    expect(log.trim().split('\n')).toHaveLength(1)
    expect(log).not.toMatch(/tiny-bert|onnx|worker|load/i)
  })
})
