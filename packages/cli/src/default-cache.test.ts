import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultCacheDir, LocalReranker, resolveModel } from '@rerank-kit/core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { FakeHub } from '../../core/src/model-files/fake-hub-server'
import { fixtureModelFiles, killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// One default cache for the CLI and the libraries: what `rerank-kit download` fetches without --dir, a
// LocalReranker given no cacheDir finds offline (both take XDG_CACHE_HOME, else ~/.cache).

let hub: FakeHub
let xdg: string
beforeAll(async () => {
  hub = await FakeHub.start()
  await hub.addModel('org/tiny-bert', 'main', await fixtureModelFiles())
  xdg = await mkdtemp(join(tmpdir(), 'rerank-kit-xdg-'))
})
afterAll(async () => {
  await hub?.close()
  await rm(xdg, { recursive: true, force: true })
})
afterEach(async () => {
  vi.unstubAllEnvs()
  await killSpawnedClis()
})

async function run(args: string[], env: Record<string, string>) {
  const command = spawnCli(args, env)
  const code = await command.exited
  return { code, stdout: command.stdout(), stderr: command.stderr() }
}

describe('the default model cache', () => {
  it('is $XDG_CACHE_HOME/rerank-kit/models, else ~/.cache; RERANKER_MODEL_CACHE_DIR or _DIR changes it', () => {
    expect(defaultCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/rerank-kit/models')
    expect(defaultCacheDir({ HOME: '/home/u', XDG_CACHE_HOME: '/x' })).toBe('/x/rerank-kit/models')
    // The XDG spec: a relative path is invalid and ignored.
    expect(defaultCacheDir({ HOME: '/home/u', XDG_CACHE_HOME: 'rel' })).toBe(
      '/home/u/.cache/rerank-kit/models',
    )
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x', RERANKER_MODEL_DIR: '/d' })).toBe('/d')
    expect(defaultCacheDir({ RERANKER_MODEL_DIR: '/d', RERANKER_MODEL_CACHE_DIR: '/c' })).toBe('/c')
  })

  it('is shared: the CLI downloads there without --dir, and LocalReranker finds the model there offline', async () => {
    const env = { XDG_CACHE_HOME: xdg, HF_ENDPOINT: hub.url }
    const download = await run(['download', 'org/tiny-bert'], env)
    expect(download.stderr).toContain(`into ${join(xdg, 'rerank-kit', 'models')}`)
    expect(download.code).toBe(0)

    const listed = await run(['models'], { XDG_CACHE_HOME: xdg })
    expect(listed.stdout).toContain(`Models in ${join(xdg, 'rerank-kit', 'models')}`)
    expect(listed.stdout).toMatch(/org\/tiny-bert\s+main/)

    vi.stubEnv('XDG_CACHE_HOME', xdg)
    const resolved = await resolveModel({ model: 'org/tiny-bert', offline: true })
    expect(resolved.dir.startsWith(join(xdg, 'rerank-kit', 'models'))).toBe(true)
    const reranker = await LocalReranker.create({
      models: [{ model: 'org/tiny-bert', workers: 1 }],
      offline: true,
    })
    try {
      const answer = await reranker.rerank({
        query: 'capital of France',
        documents: ['Paris is the capital.'],
      })
      expect(answer.results[0]!.score).toBeGreaterThan(0)
      expect(answer.results[0]!.score).toBeLessThan(1)
    } finally {
      await reranker.close()
    }
  })
})
