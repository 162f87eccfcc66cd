import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSettings, parseDotEnv } from './settings'

describe('settings', () => {
  let dir: string
  let dotEnv: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rerank-settings-'))
    dotEnv = join(dir, '.env')
    await writeFile(
      dotEnv,
      '# comment\nRERANKER_PORT=7000\nRERANKER_LOG_LEVEL="WARNING"\nexport RERANKER_DEVICE=mps\n',
    )
  })
  afterAll(() => rm(dir, { recursive: true }))

  it('has the defaults of Python reranker services where they make sense', () => {
    const settings = loadSettings({}, [], join(dir, 'missing.env'))
    expect(settings).toMatchObject({
      host: '0.0.0.0',
      port: 8000,
      modelCacheDir: undefined, // the default cache, computed by core's defaultCacheDir
      useOfflineMode: false,
      batchSize: 32,
      device: 'auto',
      useFp16: false,
      apiKeys: [],
      logLevel: 'info',
      loadBalancerEnabled: false,
      configPath: './reranker_config.yaml',
    })
    expect(settings.modelName).toBeUndefined()
  })

  it('layers .env < environment < flags', () => {
    const fromFile = loadSettings({}, [], dotEnv)
    expect(fromFile).toMatchObject({ port: 7000, logLevel: 'warn', device: 'coreml' })
    const fromEnv = loadSettings({ RERANKER_PORT: '7100', RERANKER_API_KEY: 'a, b', OTHER: 'x' }, [], dotEnv)
    expect(fromEnv).toMatchObject({ port: 7100, apiKeys: ['a', 'b'] })
    const fromFlags = loadSettings(
      { RERANKER_PORT: '7100' },
      ['--', '--port', '7200', '--use-offline-mode', '--model-path=./m'],
      dotEnv,
    )
    expect(fromFlags).toMatchObject({ port: 7200, useOfflineMode: true, modelPath: './m' })
  })

  it('names unknown and invalid settings', () => {
    expect(() => loadSettings({ RERANKER_PORTT: '1' }, [], dotEnv)).toThrowError(
      'Unknown setting RERANKER_PORTT (from the environment)',
    )
    expect(() => loadSettings({ RERANKER_PORT: 'eighty' }, [], dotEnv)).toThrowError(
      'Invalid RERANKER_PORT="eighty" (from the environment): expected an integer >= 0',
    )
    expect(() => loadSettings({}, ['--device', 'tpu'], dotEnv)).toThrowError(
      'Invalid RERANKER_DEVICE="tpu" (from the command line): expected one of auto, cpu, cuda, dml, coreml',
    )
    expect(() => loadSettings({}, ['--colour'], dotEnv)).toThrowError('Unknown flag --colour')
    expect(() => loadSettings({}, ['serve'], dotEnv)).toThrowError('Unexpected argument "serve"')
    expect(() => loadSettings({ RERANKER_OTLP_ENDPOINT: 'collector:4318' }, [], dotEnv)).toThrowError(
      'Invalid RERANKER_OTLP_ENDPOINT="collector:4318" (from the environment): expected an http(s) URL',
    )
  })

  it('reads the OTLP endpoint as a URL, and an empty one as none', () => {
    const endpoint = 'http://127.0.0.1:4318'
    expect(loadSettings({ RERANKER_OTLP_ENDPOINT: endpoint }, [], dotEnv).otlpEndpoint).toBe(endpoint)
    expect(loadSettings({ RERANKER_OTLP_ENDPOINT: ' ' }, [], dotEnv).otlpEndpoint).toBeUndefined()
    expect(loadSettings({}, [], dotEnv).otlpEndpoint).toBeUndefined()
  })

  it('reads .env syntax', () => {
    expect(parseDotEnv('A=1\n  B = \'two words\' \n#C=3\nnot a line\nD="x=y"')).toEqual({
      A: '1',
      B: 'two words',
      D: 'x=y',
    })
  })
})
