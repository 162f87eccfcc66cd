import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { LocalReranker } from './local-reranker'
import { FakeHub } from './model-files/fake-hub-server'
import { clearHubEnv, makeTempDir } from './model-files/test-helpers'
import { fixturesDir } from './test-support/reference-scorer'

// A real fixture model served in the hub's URL layout by a local server: LocalReranker downloads it into a
// cache with progress, scores with it, and a second instance loads it offline without a single request.

async function filesOf(dir: string, prefix = ''): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {}
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) Object.assign(files, await filesOf(path, `${prefix}${entry.name}/`))
    else files[`${prefix}${entry.name}`] = await readFile(path)
  }
  return files
}

describe('LocalReranker with a hub model', () => {
  let hub: FakeHub
  let cache: Awaited<ReturnType<typeof makeTempDir>>

  beforeAll(async () => {
    hub = await FakeHub.start()
    await hub.addModel(
      'rerank-kit/tiny-bert-reranker',
      'main',
      await filesOf(join(fixturesDir, 'tiny-bert-reranker')),
    )
    cache = await makeTempDir('rerank-kit-cache-')
  })
  beforeEach(() => clearHubEnv())
  afterAll(async () => {
    await hub.close()
    await cache.remove()
  })

  it('downloads with progress, then serves offline from the cache', async () => {
    const progress: { model: string; file: string; status: string }[] = []
    const local = await LocalReranker.create({
      models: [{ model: join(fixturesDir, 'tiny-bert-reranker'), name: 'local', workers: 1 }],
    })
    const request = {
      query: 'what causes the seasons',
      documents: ['The tilt of the earth axis.', 'Bananas.'],
    }
    const expected = await local.rerank(request)
    await local.close()

    const online = await LocalReranker.create({
      models: [{ model: 'rerank-kit/tiny-bert-reranker', name: 'tiny', workers: 1 }],
      hubEndpoint: hub.url,
      cacheDir: cache.path,
      onProgress: (model, event) => progress.push({ model, file: event.file, status: event.status }),
    })
    expect((await online.rerank(request)).results).toEqual(expected.results)
    await online.close()
    const done = progress.filter((event) => event.status === 'done').map((event) => event.file)
    expect(done.sort()).toEqual([
      'config.json',
      'onnx/model.onnx',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ])
    expect(progress.every((event) => event.model === 'tiny')).toBe(true)

    const requestsBefore = hub.requests.length
    const offline = await LocalReranker.create({
      models: [{ model: 'rerank-kit/tiny-bert-reranker', name: 'tiny', workers: 1 }],
      hubEndpoint: hub.url,
      cacheDir: cache.path,
      offline: true,
    })
    expect((await offline.rerank(request)).results).toEqual(expected.results)
    await offline.close()
    expect(hub.requests.length).toBe(requestsBefore)
  })

  it('offline without a cached copy fails at start naming the missing files', async () => {
    const empty = await makeTempDir('rerank-kit-empty-')
    try {
      const reranker = new LocalReranker({
        models: [{ model: 'rerank-kit/not-downloaded', workers: 1 }],
        cacheDir: empty.path,
        offline: true,
      })
      const error = (await reranker.ready().catch((e: unknown) => e)) as Error & { code?: string }
      expect(error.code).toBe('not_found')
      expect(error.message).toMatch(
        /^Model "rerank-kit\/not-downloaded" is not available offline: missing config\.json/,
      )
      expect(error.message).toContain('tokenizer.json')
      await expect(reranker.rerank({ query: 'q', documents: ['d'] })).rejects.toMatchObject({
        code: 'not_found',
      })
    } finally {
      await empty.remove()
    }
  })
})
