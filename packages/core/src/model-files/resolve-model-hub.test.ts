import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RerankError } from '@rerank-kit/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { revisionDir } from './cache-layout'
import { FakeHub } from './fake-hub-server'
import { resolveModel } from './resolve-model'
import {
  clearHubEnv,
  everythingIn,
  listFiles,
  makeTempDir,
  progressRecorder,
  recordingLogger,
  tinyModelFiles,
} from './test-helpers'

const repo = 'org/tiny'
let hub: FakeHub
let cache: Awaited<ReturnType<typeof makeTempDir>>

beforeEach(async () => {
  clearHubEnv()
  hub = await FakeHub.start()
  cache = await makeTempDir('model-cache-')
})

afterEach(async () => {
  vi.unstubAllEnvs()
  await hub.close()
  await cache.remove()
})

const baseOptions = () => ({ model: repo, cacheDir: cache.path, hubEndpoint: hub.url })

describe('download from the hub', () => {
  it('downloads every file into the revision cache folder and reports progress', async () => {
    const files = tinyModelFiles()
    await hub.addModel(repo, 'main', files)
    const progress = progressRecorder()

    const model = await resolveModel({ ...baseOptions(), dtype: 'fp32', onProgress: progress.listener })

    const dir = revisionDir(cache.path, repo, 'main')
    expect(model).toEqual({
      dir,
      onnxPath: join(dir, 'onnx', 'model.onnx'),
      dtype: 'fp32',
      source: 'hub',
      config: { model_type: 'bert', num_labels: 1, tag: 'main' },
    })
    expect(dir).toBe(join(cache.path, 'models--org--tiny', 'revisions', 'main'))
    expect(await readFile(model.onnxPath, 'utf8')).toBe(files['onnx/model.onnx'])
    expect(hub.requests.map((request) => request.path)).toEqual([
      '/org/tiny/resolve/main/config.json',
      '/org/tiny/resolve/main/tokenizer_config.json',
      '/org/tiny/resolve/main/tokenizer.json',
      '/org/tiny/resolve/main/special_tokens_map.json',
      '/org/tiny/resolve/main/onnx/model.onnx',
      '/org/tiny/resolve/main/onnx/model.onnx_data',
    ])
    expect(hub.requests.every((request) => request.authorization === undefined)).toBe(true)

    const size = Buffer.byteLength(files['onnx/model.onnx']!)
    expect(progress.of('onnx/model.onnx')).toEqual([
      { file: 'onnx/model.onnx', status: 'start', loaded: 0, total: size },
      { file: 'onnx/model.onnx', status: 'progress', loaded: size, total: size },
      { file: 'onnx/model.onnx', status: 'done', loaded: size, total: size },
    ])
    const configSize = Buffer.byteLength(files['config.json']!)
    expect(progress.of('config.json').map((event) => [event.status, event.loaded])).toEqual([
      ['start', 0],
      ['progress', configSize],
      ['done', configSize],
    ])
    // Absent optional files produce no events at all.
    expect(progress.of('special_tokens_map.json')).toEqual([])
    expect(await listFiles(dir)).toEqual([
      '.resolved-fp32.json',
      'config.json',
      'onnx/model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ])
  })

  it('resolves a second time from the cache without a single request', async () => {
    const files = tinyModelFiles()
    await hub.addModel(repo, 'main', files)
    const first = await resolveModel(baseOptions())
    const requestsAfterFirst = hub.requests.length
    const progress = progressRecorder()

    const second = await resolveModel({ ...baseOptions(), onProgress: progress.listener })

    expect(requestsAfterFirst).toBe(6)
    expect(hub.requests.length).toBe(6)
    expect(second).toEqual({ ...first, source: 'cache' })
    expect(progress.events.map((event) => [event.file, event.status, event.loaded])).toEqual([
      ['config.json', 'cached', Buffer.byteLength(files['config.json']!)],
      ['tokenizer_config.json', 'cached', Buffer.byteLength(files['tokenizer_config.json']!)],
      ['tokenizer.json', 'cached', Buffer.byteLength(files['tokenizer.json']!)],
      ['onnx/model.onnx', 'cached', Buffer.byteLength(files['onnx/model.onnx']!)],
    ])
  })

  it('puts the revision in the URL (encoded) and in the cache path', async () => {
    await hub.addModel(repo, 'main', tinyModelFiles('main'))
    await hub.addModel(repo, 'refs/pr/1', tinyModelFiles('pr-1'))

    const pr = await resolveModel({ ...baseOptions(), revision: 'refs/pr/1' })
    const main = await resolveModel(baseOptions())

    expect(pr.dir).toBe(join(cache.path, 'models--org--tiny', 'revisions', 'refs%2Fpr%2F1'))
    expect(pr.config.tag).toBe('pr-1')
    expect(main.config.tag).toBe('main')
    expect(await readFile(pr.onnxPath, 'utf8')).toContain('fp32 graph pr-1')
    expect(hub.requests[0]!.path).toBe('/org/tiny/resolve/refs%2Fpr%2F1/config.json')
    expect(hub.requests.filter((request) => request.path.includes('/resolve/main/')).length).toBe(6)
  })

  it('resolves a repo id without an org', async () => {
    await hub.addModel('tiny', 'main', tinyModelFiles())
    const model = await resolveModel({ ...baseOptions(), model: 'tiny' })
    expect(model.dir).toBe(join(cache.path, 'models--tiny', 'revisions', 'main'))
    expect(hub.requests[0]!.path).toBe('/tiny/resolve/main/config.json')
  })
})

describe('dtype', () => {
  const allDtypes = (): Record<string, string> => ({
    ...tinyModelFiles(),
    'onnx/model_fp16.onnx': 'fp16 bytes',
    'onnx/model_quantized.onnx': 'q8 bytes',
  })

  it('fp16 and q8 fetch only their own file', async () => {
    await hub.addModel(repo, 'main', allDtypes())

    const fp16 = await resolveModel({ ...baseOptions(), dtype: 'fp16' })
    const q8 = await resolveModel({ ...baseOptions(), dtype: 'q8' })

    expect(fp16.dtype).toBe('fp16')
    expect(fp16.onnxPath).toBe(join(fp16.dir, 'onnx', 'model_fp16.onnx'))
    expect(await readFile(fp16.onnxPath, 'utf8')).toBe('fp16 bytes')
    expect(q8.dtype).toBe('q8')
    expect(await readFile(q8.onnxPath, 'utf8')).toBe('q8 bytes')
    const onnxRequests = hub.requests
      .map((request) => request.file)
      .filter((file) => file?.startsWith('onnx/'))
    expect(onnxRequests).toEqual([
      'onnx/model_fp16.onnx',
      'onnx/model_fp16.onnx_data',
      'onnx/model_quantized.onnx',
      'onnx/model_quantized.onnx_data',
    ])
    // The shared files came from the first resolve; the second only asked for its graph.
    expect(hub.requestsFor('config.json').length).toBe(1)
  })

  it('auto takes fp32 when present', async () => {
    await hub.addModel(repo, 'main', allDtypes())
    const model = await resolveModel(baseOptions())
    expect(model.dtype).toBe('fp32')
    expect(hub.requestsFor('onnx/model_quantized.onnx')).toEqual([])
  })

  it('auto falls back to q8, then fp16, in that order', async () => {
    const { 'onnx/model.onnx': _fp32, ...withoutFp32 } = allDtypes()
    await hub.addModel(repo, 'main', withoutFp32)

    const model = await resolveModel({ ...baseOptions(), dtype: 'auto' })

    expect(model.dtype).toBe('q8')
    expect(await readFile(model.onnxPath, 'utf8')).toBe('q8 bytes')
    const onnxRequests = hub.requests
      .map((request) => request.file)
      .filter((file) => file?.startsWith('onnx/'))
    expect(onnxRequests).toEqual([
      'onnx/model.onnx',
      'onnx/model_quantized.onnx',
      'onnx/model_quantized.onnx_data',
    ])

    const other = 'org/fp16-only'
    const { 'onnx/model_quantized.onnx': _q8, ...fp16Only } = withoutFp32
    await hub.addModel(other, 'main', fp16Only)
    const fp16 = await resolveModel({ ...baseOptions(), model: other })
    expect(fp16.dtype).toBe('fp16')
    expect(await readFile(fp16.onnxPath, 'utf8')).toBe('fp16 bytes')
  })

  it('auto remembers its choice: the cached resolve probes nothing', async () => {
    const { 'onnx/model.onnx': _fp32, ...withoutFp32 } = allDtypes()
    await hub.addModel(repo, 'main', withoutFp32)
    await resolveModel(baseOptions())
    const before = hub.requests.length

    const again = await resolveModel(baseOptions())

    expect(again.dtype).toBe('q8')
    expect(again.source).toBe('cache')
    expect(hub.requests.length).toBe(before)
  })
})

describe('optional and missing files', () => {
  it('fetches optional files when present and accepts their 404', async () => {
    await hub.addModel(repo, 'main', {
      ...tinyModelFiles(),
      'special_tokens_map.json': '{"cls_token":"[CLS]"}',
      'onnx/model.onnx_data': 'external weights',
    })

    const model = await resolveModel(baseOptions())

    expect(await readFile(join(model.dir, 'special_tokens_map.json'), 'utf8')).toBe('{"cls_token":"[CLS]"}')
    expect(await readFile(`${model.onnxPath}_data`, 'utf8')).toBe('external weights')

    const other = 'org/no-optional'
    await hub.addModel(other, 'main', tinyModelFiles())
    hub.statusFor.set('special_tokens_map.json', 404)
    const plain = await resolveModel({ ...baseOptions(), model: other })
    expect(plain.source).toBe('hub')
    expect(await listFiles(plain.dir)).not.toContain('special_tokens_map.json')
  })

  it('a 404 for a required file fails naming the file and the repo, before the graph is fetched', async () => {
    await hub.addModel(repo, 'main', tinyModelFiles())
    hub.statusFor.set('tokenizer.json', 404)

    const error = await resolveModel(baseOptions()).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RerankError)
    expect(error).toMatchObject({ code: 'not_found', status: 404, upstreamStatus: 404 })
    expect((error as Error).message).toBe(
      'File tokenizer.json of "org/tiny" at revision "main" not found on the hub (404)',
    )
    expect(hub.requestsFor('onnx/model.onnx')).toEqual([])
    expect(await listFiles(revisionDir(cache.path, repo, 'main'))).toEqual([
      'config.json',
      'tokenizer_config.json',
    ])
  })

  it('a missing graph names the dtype file, or every file auto tried', async () => {
    const { 'onnx/model.onnx': _fp32, ...noGraph } = tinyModelFiles()
    await hub.addModel(repo, 'main', noGraph)

    const fp16 = await resolveModel({ ...baseOptions(), dtype: 'fp16' }).catch((e: unknown) => e)
    const auto = await resolveModel(baseOptions()).catch((e: unknown) => e)

    expect(fp16).toMatchObject({
      code: 'not_found',
      message: 'File onnx/model_fp16.onnx of "org/tiny" at revision "main" not found on the hub (404)',
    })
    expect(auto).toMatchObject({
      code: 'not_found',
      message:
        'No ONNX file of "org/tiny" at revision "main" found on the hub (404): tried onnx/model.onnx, onnx/model_quantized.onnx, onnx/model_fp16.onnx',
    })
  })

  it('maps other hub statuses: 403 forbidden with the gated hint, 429 with Retry-After, 500 upstream', async () => {
    await hub.addModel(repo, 'main', tinyModelFiles())

    hub.statusFor.set('config.json', 403)
    const forbidden = await resolveModel({ ...baseOptions(), token: 'hf_abc' }).catch((e: unknown) => e)
    hub.statusFor.set('config.json', 429)
    const limited = await resolveModel(baseOptions()).catch((e: unknown) => e)
    hub.statusFor.set('config.json', 500)
    const failed = await resolveModel(baseOptions()).catch((e: unknown) => e)

    expect(forbidden).toMatchObject({ code: 'forbidden', status: 403, upstreamStatus: 403 })
    expect((forbidden as Error).message).toBe(
      'The hub answered 403 for config.json of "org/tiny" at revision "main": the token has no access: for a gated model, accept its terms on the model\'s page with the token\'s account',
    )
    expect(limited).toMatchObject({ code: 'rate_limited', upstreamStatus: 429, retryAfterMs: 7000 })
    expect(failed).toMatchObject({ code: 'upstream_error', upstreamStatus: 500, retryable: true })
    expect((failed as Error).message).toBe(
      'The hub answered 500 for config.json of "org/tiny" at revision "main"',
    )
  })
})

describe('redirects', () => {
  it('follows a 302 to another path', async () => {
    const files = tinyModelFiles()
    await hub.addModel(repo, 'main', files)
    hub.redirects.add('onnx/model.onnx')

    const model = await resolveModel(baseOptions())

    expect(await readFile(model.onnxPath, 'utf8')).toBe(files['onnx/model.onnx'])
    expect(hub.requestsFor('onnx/model.onnx').map((request) => request.path)).toEqual([
      '/org/tiny/resolve/main/onnx/model.onnx',
      '/cdn/org/tiny/resolve/main/onnx/model.onnx',
    ])
  })

  it('does not forward the token to a CDN on another origin', async () => {
    const cdn = await FakeHub.start()
    try {
      const files = tinyModelFiles()
      await hub.addModel(repo, 'main', files)
      await cdn.addModel(repo, 'main', files)
      hub.requireToken = 'hf_secret_token'
      hub.redirects.add('onnx/model.onnx')
      hub.cdnBase = cdn.url.replace('127.0.0.1', 'localhost')

      const model = await resolveModel({ ...baseOptions(), token: 'hf_secret_token' })

      expect(await readFile(model.onnxPath, 'utf8')).toBe(files['onnx/model.onnx'])
      expect(cdn.requests).toEqual([
        { method: 'GET', path: '/cdn/org/tiny/resolve/main/onnx/model.onnx', file: 'onnx/model.onnx' },
      ])
    } finally {
      await cdn.close()
    }
  })
})

describe('tokens', () => {
  const token = 'hf_secret_token_123'

  it('sends the token as a bearer token on every request', async () => {
    await hub.addModel(repo, 'main', tinyModelFiles())
    hub.requireToken = token

    const model = await resolveModel({ ...baseOptions(), token })

    expect(model.source).toBe('hub')
    expect(hub.requests.length).toBe(6)
    expect(hub.requests.every((request) => request.authorization === `Bearer ${token}`)).toBe(true)
  })

  it('takes HF_TOKEN and HF_ENDPOINT from the environment when the options are absent', async () => {
    await hub.addModel(repo, 'main', tinyModelFiles())
    hub.requireToken = token
    vi.stubEnv('HF_TOKEN', token)
    vi.stubEnv('HF_ENDPOINT', hub.url)

    const model = await resolveModel({ model: repo, cacheDir: cache.path })

    expect(model.source).toBe('hub')
    expect(hub.requests[0]!.authorization).toBe(`Bearer ${token}`)
  })

  it('401 without a token -> unauthorized with a hint about the token', async () => {
    await hub.addModel(repo, 'main', tinyModelFiles())
    hub.requireToken = token

    const error = await resolveModel(baseOptions()).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RerankError)
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, upstreamStatus: 401, retryable: false })
    expect((error as Error).message).toBe(
      'The hub answered 401 for config.json of "org/tiny" at revision "main" (hub: GatedRepo): the repository is private or gated, or does not exist: pass a token (option `token` or HF_TOKEN)',
    )
    expect(hub.requests.length).toBe(1)
  })

  it('a rejected token never appears in the error, its cause, or the logs', async () => {
    await hub.addModel(repo, 'main', tinyModelFiles())
    hub.requireToken = 'the-right-one'
    const logger = recordingLogger()

    const error = await resolveModel({ ...baseOptions(), token, logger }).catch((e: unknown) => e)

    expect(error).toMatchObject({ code: 'unauthorized' })
    expect((error as Error).message).toContain('the token was rejected')
    expect(hub.requests[0]!.authorization).toBe(`Bearer ${token}`)
    expect(everythingIn(error)).not.toContain(token)

    // A successful resolve logs its downloads: still no token.
    hub.requireToken = token
    await resolveModel({ ...baseOptions(), token, logger })
    expect(logger.lines.some((line) => line.includes('Downloaded model file'))).toBe(true)
    expect(logger.lines.join('\n')).not.toContain(token)
  })
})
