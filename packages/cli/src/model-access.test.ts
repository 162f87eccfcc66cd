import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertModelAccess } from './local-model'
import {
  type AccessCheck,
  assertCacheWritable,
  assertModelFolderReadable,
  ModelAccessError,
} from './model-access'
import { loadSettings } from './settings'
import { fixtureModel, killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// What `serve` checks before listening (a container's model mount, its /models volume). Permissions are faked
// with an access function that refuses one path: these tests may run as root, who may read and write anything.
// The real thing (a uid 1000 container, a root-owned mount) is checked by deploy/test-image.sh.

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rerank-kit-model-access-'))
})
afterAll(async () => {
  killSpawnedClis()
  await rm(dir, { recursive: true, force: true })
})

/** Refuses `mode` access to `refused` the way the kernel would (EACCES), allows the rest. */
const refusing =
  (refused: string, code = 'EACCES'): AccessCheck =>
  async (path) => {
    if (path === refused) throw Object.assign(new Error(`${code}: ${path}`), { code })
  }
const uid = process.getuid?.() === undefined ? '' : ` as uid ${process.getuid!()}`

describe('assertModelFolderReadable', () => {
  it('passes for the fixture model', async () => {
    await expect(assertModelFolderReadable(fixtureModel)).resolves.toBeUndefined()
  })

  it('names a missing folder, a file given as the folder, an unreadable folder or file', async () => {
    const missing = join(dir, 'no-such-model')
    await expect(assertModelFolderReadable(missing)).rejects.toThrow(
      new ModelAccessError(`the model folder ${missing} (RERANKER_MODEL_PATH) does not exist`),
    )
    const file = join(dir, 'a-file')
    await writeFile(file, '')
    await expect(assertModelFolderReadable(file)).rejects.toThrow(
      `the model folder ${file} (RERANKER_MODEL_PATH) is not a folder`,
    )
    await expect(assertModelFolderReadable(fixtureModel, refusing(fixtureModel))).rejects.toThrow(
      `cannot read the model folder ${fixtureModel} (RERANKER_MODEL_PATH)${uid}: permission denied`,
    )
    const onnx = join(fixtureModel, 'onnx/model.onnx')
    await expect(assertModelFolderReadable(fixtureModel, refusing(onnx))).rejects.toThrow(
      `cannot read ${onnx} (RERANKER_MODEL_PATH)${uid}: permission denied`,
    )
  })

  it('leaves a dangling link to the model check (a missing file, not a permission problem)', async () => {
    const model = join(dir, 'linked')
    await cp(fixtureModel, model, { recursive: true })
    await symlink(join(dir, 'nowhere'), join(model, 'extra.json'))
    await expect(assertModelFolderReadable(model)).resolves.toBeUndefined()
  })
})

describe('assertCacheWritable', () => {
  it('checks the folder, or the nearest existing parent where it would be created', async () => {
    const cache = join(dir, 'cache')
    await mkdir(cache)
    await expect(assertCacheWritable(cache)).resolves.toBeUndefined()
    await expect(assertCacheWritable(join(cache, 'not/yet'))).resolves.toBeUndefined()
    await expect(assertCacheWritable(cache, refusing(cache, 'EROFS'))).rejects.toThrow(
      `cannot write the model cache ${cache} (RERANKER_MODEL_CACHE_DIR)${uid}: read-only file system; mount a folder this user can write there, or download the model ahead (rerank-kit download) and set RERANKER_USE_OFFLINE_MODE=true`,
    )
    await expect(assertCacheWritable(join(cache, 'not/yet'), refusing(cache))).rejects.toThrow(
      `cannot write the model cache ${join(cache, 'not/yet')} (RERANKER_MODEL_CACHE_DIR)${uid} (at ${cache}): permission denied;`,
    )
    const file = join(dir, 'cache-file')
    await writeFile(file, '')
    await expect(assertCacheWritable(join(file, 'x'))).rejects.toThrow(`${file} is not a folder`)
  })
})

describe('assertModelAccess (serve, before listening)', () => {
  const settings = (env: Record<string, string>) => loadSettings(env, [], join(dir, 'none.env'))
  const from = (path: string) => path

  it('checks the cache only when a download may write to it', async () => {
    const cache = join(dir, 'models')
    await mkdir(cache)
    const readOnly = refusing(cache)
    const hub = { RERANKER_MODEL_NAME: 'org/model', RERANKER_MODEL_CACHE_DIR: cache }
    await expect(assertModelAccess(settings(hub), from, {}, readOnly)).rejects.toThrow(
      `cannot write the model cache ${cache}`,
    )
    // Offline: nothing is written. A model folder: the cache is not used.
    await expect(
      assertModelAccess(settings({ ...hub, RERANKER_USE_OFFLINE_MODE: 'true' }), from, {}, readOnly),
    ).resolves.toBeUndefined()
    await expect(
      assertModelAccess(settings({ ...hub, RERANKER_MODEL_PATH: fixtureModel }), from, {}, readOnly),
    ).resolves.toBeUndefined()
    // A model already complete in a read-only cache (filled ahead) needs no write.
    const { revisionDir } = await import('@rerank-kit/core')
    await cp(fixtureModel, revisionDir(cache, 'org/model', 'main'), { recursive: true })
    await expect(assertModelAccess(settings(hub), from, {}, readOnly)).resolves.toBeUndefined()
  })
})

describe('rerank-kit serve with a model it cannot use', () => {
  it('exits 1 before listening, with one line naming the path', async () => {
    const missing = join(dir, 'gone')
    const server = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1', '--model-path', missing])
    expect(await server.exited).toBe(1)
    expect(server.stderr()).toBe(
      `rerank-kit serve: the model folder ${missing} (RERANKER_MODEL_PATH) does not exist\n`,
    )
  })

  it('exits 2 with one line for a bad setting', async () => {
    const server = spawnCli(['serve', '--port', '0'], { RERANKER_BATCH_SIZE: 'lots' })
    expect(await server.exited).toBe(2)
    expect(server.stderr()).toBe(
      'rerank-kit: Invalid RERANKER_BATCH_SIZE="lots" (from the environment): expected an integer >= 1 (see: rerank-kit serve --help)\n',
    )
  })
})
