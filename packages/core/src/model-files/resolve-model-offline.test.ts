import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { RerankError } from '@rerank-kit/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { revisionDir } from './cache-layout'
import { FakeHub } from './fake-hub-server'
import { resolveModel } from './resolve-model'
import { clearHubEnv, makeTempDir, progressRecorder, tinyModelFiles } from './test-helpers'

let hub: FakeHub
let temp: Awaited<ReturnType<typeof makeTempDir>>

beforeEach(async () => {
  clearHubEnv()
  hub = await FakeHub.start()
  temp = await makeTempDir('model-offline-')
})

afterEach(async () => {
  vi.unstubAllEnvs()
  await hub.close()
  await temp.remove()
})

async function writeModel(dir: string, files: Record<string, string>) {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true })
    await writeFile(join(dir, file), content)
  }
}

describe('offline mode', () => {
  it('names the model, the folder and every missing file, with zero requests', async () => {
    const cacheDir = join(temp.path, 'cache')
    const dir = revisionDir(cacheDir, 'org/x', 'main')
    await writeModel(dir, { 'tokenizer_config.json': '{}' })

    const error = await resolveModel({ model: 'org/x', cacheDir, hubEndpoint: hub.url, offline: true }).catch(
      (e: unknown) => e,
    )

    expect(error).toBeInstanceOf(RerankError)
    expect(error).toMatchObject({ code: 'not_found', status: 404 })
    expect((error as Error).message).toBe(
      `Model "org/x" is not available offline: missing config.json, onnx/model.onnx (or onnx/model_quantized.onnx, onnx/model_fp16.onnx), tokenizer.json in ${dir}`,
    )
    expect(hub.requests).toEqual([])
  })

  it('names only the dtype file when a dtype is given', async () => {
    const cacheDir = join(temp.path, 'cache')
    const dir = revisionDir(cacheDir, 'org/x', 'v2')
    const { 'onnx/model.onnx': _graph, ...rest } = tinyModelFiles()
    await writeModel(dir, { ...rest, 'onnx/model_quantized.onnx': 'q8' })

    const error = await resolveModel({
      model: 'org/x',
      revision: 'v2',
      cacheDir,
      offline: true,
      dtype: 'fp16',
    }).catch((e: unknown) => e)

    expect((error as Error).message).toBe(
      `Model "org/x" is not available offline: missing onnx/model_fp16.onnx in ${dir}`,
    )
  })

  it('resolves from the cache a model downloaded earlier, without a request, reporting cached files', async () => {
    const cacheDir = join(temp.path, 'cache')
    await hub.addModel('org/x', 'main', { ...tinyModelFiles(), 'onnx/model_quantized.onnx': 'q8' })
    const online = await resolveModel({ model: 'org/x', cacheDir, hubEndpoint: hub.url, dtype: 'q8' })
    const requests = hub.requests.length
    const progress = progressRecorder()

    const offline = await resolveModel({
      model: 'org/x',
      cacheDir,
      hubEndpoint: hub.url,
      offline: true,
      onProgress: progress.listener,
    })

    expect(offline).toEqual({ ...online, source: 'cache' })
    expect(offline.dtype).toBe('q8')
    expect(hub.requests.length).toBe(requests)
    expect(progress.events.map((event) => `${event.status} ${event.file} ${event.loaded}`)).toEqual([
      `cached config.json ${tinyModelFiles()['config.json']!.length}`,
      `cached tokenizer_config.json ${tinyModelFiles()['tokenizer_config.json']!.length}`,
      `cached tokenizer.json ${tinyModelFiles()['tokenizer.json']!.length}`,
      'cached onnx/model_quantized.onnx 2',
    ])
  })

  it('HF_HUB_OFFLINE=1 turns offline mode on when the option is absent', async () => {
    vi.stubEnv('HF_HUB_OFFLINE', '1')
    await hub.addModel('org/x', 'main', tinyModelFiles())

    const error = await resolveModel({ model: 'org/x', cacheDir: temp.path, hubEndpoint: hub.url }).catch(
      (e: unknown) => e,
    )

    expect(error).toMatchObject({ code: 'not_found' })
    expect((error as Error).message).toMatch(/^Model "org\/x" is not available offline: missing config\.json/)
    expect(hub.requests).toEqual([])

    // The option wins over the environment.
    const model = await resolveModel({
      model: 'org/x',
      cacheDir: temp.path,
      hubEndpoint: hub.url,
      offline: false,
    })
    expect(model.source).toBe('hub')
  })
})

describe('local folders', () => {
  it('resolves an absolute path without touching the network', async () => {
    const dir = join(temp.path, 'my-model')
    await writeModel(dir, { ...tinyModelFiles('local'), 'onnx/model_fp16.onnx': 'fp16' })

    const model = await resolveModel({ model: dir, hubEndpoint: hub.url })
    const fp16 = await resolveModel({ model: dir, hubEndpoint: hub.url, dtype: 'fp16' })

    expect(model).toEqual({
      dir,
      onnxPath: join(dir, 'onnx', 'model.onnx'),
      dtype: 'fp32',
      source: 'local',
      config: { model_type: 'bert', num_labels: 1, tag: 'local' },
    })
    expect(fp16.onnxPath).toBe(join(dir, 'onnx', 'model_fp16.onnx'))
    expect(hub.requests).toEqual([])
  })

  it('resolves relative paths (./ and ../) and an existing folder written like a hub id', async () => {
    const dir = join(temp.path, 'org', 'rel-model')
    await writeModel(dir, tinyModelFiles('relative'))
    const previousCwd = process.cwd()
    // vitest runs each test file in its own process (forks pool), so changing directory stays local.
    process.chdir(join(temp.path, 'org'))
    try {
      const dotted = await resolveModel({ model: './rel-model', hubEndpoint: hub.url })
      const parent = await resolveModel({ model: '../org/rel-model', hubEndpoint: hub.url })
      process.chdir(temp.path)
      // `org/rel-model` is also a valid hub id; an existing folder of that name wins.
      const bare = await resolveModel({ model: 'org/rel-model', hubEndpoint: hub.url })

      expect(dotted).toMatchObject({ dir, source: 'local', dtype: 'fp32', config: { tag: 'relative' } })
      expect(parent.dir).toBe(dir)
      expect(bare.dir).toBe(dir)
      expect(hub.requests).toEqual([])
    } finally {
      process.chdir(previousCwd)
    }
  })

  it('an incomplete folder names every missing file; a missing folder says so', async () => {
    const dir = join(temp.path, 'broken')
    await writeModel(dir, { 'config.json': '{}', 'onnx/model_fp16.onnx': 'fp16' })

    const incomplete = await resolveModel({ model: dir, dtype: 'q8' }).catch((e: unknown) => e)
    const absent = await resolveModel({ model: './no/such/model' }).catch((e: unknown) => e)

    expect(incomplete).toMatchObject({
      code: 'not_found',
      message: `Model "${dir}" is incomplete: missing onnx/model_quantized.onnx, tokenizer.json, tokenizer_config.json in ${dir}`,
    })
    expect(absent).toMatchObject({ code: 'not_found' })
    expect((absent as Error).message).toBe(
      `Model folder "./no/such/model" does not exist (looked in ${join(process.cwd(), 'no/such/model')})`,
    )
  })

  it('a config.json that is not a JSON object is refused', async () => {
    const dir = join(temp.path, 'bad-config')
    await writeModel(dir, { ...tinyModelFiles(), 'config.json': '[1, 2]' })
    const error = await resolveModel({ model: dir }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'invalid_request',
      message: `Model "${dir}": ${join(dir, 'config.json')} is not a JSON object`,
    })
  })
})

describe('invalid references', () => {
  it('rejects what is neither a folder nor a hub id, and bad revisions and dtypes', async () => {
    const cacheDir = temp.path
    const badId = await resolveModel({ model: 'org/../etc', cacheDir }).catch((e: unknown) => e)
    const badRevision = await resolveModel({ model: 'org/x', revision: '..', cacheDir }).catch(
      (e: unknown) => e,
    )
    const badDtype = await resolveModel({ model: 'org/x', dtype: 'int4' as 'q8', cacheDir }).catch(
      (e: unknown) => e,
    )

    expect(badId).toMatchObject({
      code: 'invalid_request',
      param: 'model',
      message: 'Model "org/../etc" is neither an existing folder nor a hub id like "org/name"',
    })
    expect(badRevision).toMatchObject({
      code: 'invalid_request',
      param: 'revision',
      message: 'Invalid revision ".."',
    })
    expect(badDtype).toMatchObject({
      code: 'invalid_request',
      param: 'dtype',
      message: 'Unknown dtype "int4"',
    })
    expect(hub.requests).toEqual([])
  })
})
