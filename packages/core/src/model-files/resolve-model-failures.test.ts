import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RerankError } from '@rerank-kit/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { revisionDir } from './cache-layout'
import type { DownloadProgress } from './download-progress'
import { FakeHub } from './fake-hub-server'
import { resolveModel } from './resolve-model'
import { clearHubEnv, listFiles, makeTempDir, progressRecorder, tinyModelFiles } from './test-helpers'

const repo = 'org/tiny'
let hub: FakeHub
let cache: Awaited<ReturnType<typeof makeTempDir>>

beforeEach(async () => {
  clearHubEnv()
  hub = await FakeHub.start()
  cache = await makeTempDir('model-cache-')
  await hub.addModel(repo, 'main', tinyModelFiles())
})

afterEach(async () => {
  vi.unstubAllEnvs()
  await hub.close()
  await cache.remove()
})

const baseOptions = () => ({ model: repo, cacheDir: cache.path, hubEndpoint: hub.url })
const cacheFiles = () => listFiles(revisionDir(cache.path, repo, 'main'))

describe('interrupted downloads', () => {
  it('a connection closed mid-body leaves no partial file, and a later resolve fetches only what is missing', async () => {
    hub.closeMidBody.add('onnx/model.onnx')
    const failing = progressRecorder()
    // Close only once the client has seen the first half: a fixed pause races the reader on a busy machine.
    let sawHalf: () => void = () => {}
    hub.closeMidBodyAfter = new Promise<void>((resolve) => {
      sawHalf = resolve
    })
    const onProgress = (event: DownloadProgress) => {
      failing.listener(event)
      if (event.file === 'onnx/model.onnx' && event.status === 'progress') sawHalf()
    }

    const error = await resolveModel({ ...baseOptions(), onProgress }).catch((e: unknown) => e)

    const size = Buffer.byteLength(tinyModelFiles()['onnx/model.onnx']!)
    // Half the body reached the temp file before the connection closed.
    expect(failing.of('onnx/model.onnx')).toEqual([
      { file: 'onnx/model.onnx', status: 'start', loaded: 0, total: size },
      { file: 'onnx/model.onnx', status: 'progress', loaded: size / 2, total: size },
    ])
    expect(error).toBeInstanceOf(RerankError)
    expect(error).toMatchObject({ code: 'upstream_error', retryable: true })
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Download of onnx/model\\.onnx of "org/tiny" at revision "main" was interrupted after \\d+ of ${size} bytes; nothing was kept, retry to download it again$`,
      ),
    )
    // No temp file, no graph under its final name, no manifest claiming completeness.
    expect(await cacheFiles()).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json'])

    hub.closeMidBody.clear()
    const requestsBefore = hub.requests.length
    const progress = progressRecorder()
    const model = await resolveModel({ ...baseOptions(), onProgress: progress.listener })

    expect(model.source).toBe('hub')
    expect(await readFile(model.onnxPath, 'utf8')).toBe(tinyModelFiles()['onnx/model.onnx'])
    expect(hub.requests.slice(requestsBefore).map((request) => request.file)).toEqual([
      'special_tokens_map.json',
      'onnx/model.onnx',
      'onnx/model.onnx_data',
    ])
    expect(progress.of('config.json').map((event) => event.status)).toEqual(['cached'])
    expect(progress.of('onnx/model.onnx').map((event) => event.status)).toEqual(['start', 'progress', 'done'])
  })

  it('an unreachable hub -> upstream_error naming the endpoint, never a raw fetch error', async () => {
    const closed = await FakeHub.start()
    const endpoint = closed.url
    await closed.close()

    const error = await resolveModel({ ...baseOptions(), hubEndpoint: endpoint }).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RerankError)
    expect(error).toMatchObject({ code: 'upstream_error', status: 502 })
    expect((error as Error).message).toBe(
      `Could not reach the hub at ${endpoint} for config.json of "org/tiny" at revision "main" (ECONNREFUSED)`,
    )
  })
})

describe('cache folder problems', () => {
  it('an unwritable cache -> internal error naming the file and the path, and nothing is left behind', async () => {
    const notADir = join(cache.path, 'a-file')
    await writeFile(notADir, 'not a folder')

    const error = await resolveModel({ ...baseOptions(), cacheDir: notADir }).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RerankError)
    expect(error).toMatchObject({ code: 'internal', status: 500, publicMessage: 'Internal server error' })
    expect((error as Error).message).toMatch(
      /^Could not write config\.json of "org\/tiny" at revision "main" to .*a-file.* \(ENOTDIR\): check that the cache folder is writable and has space$/,
    )
    expect(await listFiles(cache.path)).toEqual(['a-file'])
  })
})

describe('abort', () => {
  it('aborting mid-download rejects with aborted and leaves no partial file', async () => {
    hub.trickle.add('onnx/model.onnx')
    const controller = new AbortController()
    let filesWhenAborted: Promise<string[]> | undefined
    const onProgress = (event: { file: string; status: string }) => {
      if (event.file !== 'onnx/model.onnx' || event.status !== 'progress' || controller.signal.aborted) return
      filesWhenAborted = cacheFiles()
      void filesWhenAborted.then(() => controller.abort())
    }

    const error = await resolveModel({ ...baseOptions(), signal: controller.signal, onProgress }).catch(
      (e: unknown) => e,
    )

    expect(error).toBeInstanceOf(RerankError)
    expect(error).toMatchObject({ code: 'aborted', message: 'Resolving model "org/tiny" was aborted' })
    // The temp file was there mid-download and is gone once the promise has rejected.
    expect((await filesWhenAborted)?.filter((file) => file.endsWith('.part'))).toEqual([
      expect.stringMatching(/^onnx\/\.model\.onnx\.[0-9a-f]{12}\.part$/),
    ])
    expect(await cacheFiles()).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    expect(hub.requestsFor('onnx/model.onnx').length).toBe(1)
  })

  it('a timeout signal gives a timeout error', async () => {
    hub.delayMs = 200

    const error = await resolveModel({ ...baseOptions(), signal: AbortSignal.timeout(30) }).catch(
      (e: unknown) => e,
    )

    expect(error).toMatchObject({
      code: 'timeout',
      status: 504,
      message: 'Resolving model "org/tiny" timed out',
    })
    expect(await cacheFiles()).toEqual([])
  })

  it('an already aborted signal fails before any request', async () => {
    const error = await resolveModel({ ...baseOptions(), signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'aborted' })
    expect(hub.requests).toEqual([])
  })
})

describe('concurrent resolves in one process', () => {
  it('share one download per file', async () => {
    hub.delayMs = 30
    const recorders = [progressRecorder(), progressRecorder(), progressRecorder()]

    const models = await Promise.all(
      recorders.map((progress) => resolveModel({ ...baseOptions(), onProgress: progress.listener })),
    )

    const files = hub.requests.map((request) => request.file)
    expect(files.sort()).toEqual([
      'config.json',
      'onnx/model.onnx',
      'onnx/model.onnx_data',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ])
    expect(models[1]).toEqual(models[0])
    expect(models[2]).toEqual(models[0])
    expect(models[0]!.source).toBe('hub')
    for (const progress of recorders) {
      expect(progress.of('onnx/model.onnx').map((event) => event.status)).toEqual([
        'start',
        'progress',
        'done',
      ])
    }
  })

  it('one caller aborting does not abort the download the others wait for', async () => {
    hub.trickle.add('onnx/model.onnx')
    hub.trickleBytes = 16
    const controller = new AbortController()
    const onProgress = (event: { file: string; status: string }) => {
      if (event.file === 'onnx/model.onnx' && event.status === 'progress') controller.abort()
    }

    const [aborted, kept] = await Promise.allSettled([
      resolveModel({ ...baseOptions(), signal: controller.signal, onProgress }),
      resolveModel(baseOptions()),
    ])

    expect(aborted).toMatchObject({ status: 'rejected', reason: { code: 'aborted' } })
    expect(kept).toMatchObject({ status: 'fulfilled', value: { source: 'hub', dtype: 'fp32' } })
    expect(hub.requestsFor('onnx/model.onnx').length).toBe(1)
    expect(await cacheFiles()).toEqual([
      '.resolved-auto.json',
      'config.json',
      'onnx/model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ])
  })

  it('a throwing onProgress listener does not break the download', async () => {
    const model = await resolveModel({
      ...baseOptions(),
      onProgress: () => {
        throw new Error('listener bug')
      },
    })
    expect(await readFile(model.onnxPath, 'utf8')).toBe(tinyModelFiles()['onnx/model.onnx'])
  })
})
