import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acceleratorAbsence, LocalReranker } from '@rerank-kit/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FakeHub } from '../../core/src/model-files/fake-hub-server'
import { parsePrometheus } from '../../server/src/test-support/parse-prometheus'
import { runCli } from './run-cli'
import {
  cliPackageDir,
  fixtureModel,
  fixtureModelFiles,
  killSpawnedClis,
  spawnCli,
} from './test-support/spawn-cli'

const here = cliPackageDir
const fixture = fixtureModel
const start = spawnCli

/** Runs a command to its end. */
async function run(args: string[], env: Record<string, string> = {}) {
  const command = start(args, env)
  const code = await command.exited
  return { code, stdout: command.stdout(), stderr: command.stderr() }
}

afterEach(killSpawnedClis)

const request = { query: 'capital of France', documents: ['Paris is the capital of France.', 'Bananas.'] }

/** The scores the same model gives in this process: the served ones must equal them exactly. */
async function inProcessScores(): Promise<number[]> {
  const reranker = await LocalReranker.create({ models: [{ model: fixture, workers: 1 }] })
  try {
    const response = await reranker.rerank(request)
    return response.results.sort((a, b) => a.index - b.index).map((result) => result.score)
  } finally {
    await reranker.close()
  }
}

async function servedScores(url: string, model: string): Promise<number[]> {
  const response = await fetch(`${url}/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, ...request, return_documents: false }),
  })
  expect(response.status).toBe(200)
  const body = (await response.json()) as { results: { index: number; relevance_score: number }[] }
  return body.results.sort((a, b) => a.index - b.index).map((result) => result.relevance_score)
}

let expectedScores: number[]
beforeAll(async () => {
  expectedScores = await inProcessScores()
})

describe('rerank-kit usage', () => {
  it('--help lists the commands; each command has its own --help', async () => {
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    for (const command of ['serve', 'download', 'models', 'check']) expect(help.stdout).toContain(command)
    expect(help.stdout).toContain('rerank-kit serve --model-path ./model')

    const serveHelp = await run(['serve', '--help'])
    expect(serveHelp.code).toBe(0)
    expect(serveHelp.stdout).toMatch(/--model-path <value> +RERANKER_MODEL_PATH/)
    expect(serveHelp.stdout).toMatch(/--use-offline-mode +RERANKER_USE_OFFLINE_MODE/)
    const downloadHelp = await run(['download', '-h'])
    expect(downloadHelp.code).toBe(0)
    expect(downloadHelp.stdout).toContain('Usage: rerank-kit download <org/name>')
  })

  it('--version (and -v) prints the version of @rerank-kit/cli and nothing else', async () => {
    const { version } = JSON.parse(await readFile(join(here, 'package.json'), 'utf8')) as { version: string }
    const [long, short] = await Promise.all([run(['--version']), run(['-v'])])
    for (const result of [long, short]) {
      expect(result.code).toBe(0)
      expect(result.stdout).toBe(`${version}\n`)
      expect(result.stderr).toBe('')
    }
  })

  it('an unknown command, flag or setting exits 2 naming it', async () => {
    const [unknown, noCommand, badFlag, badServeFlag, badSetting, noModel] = await Promise.all([
      run(['frobnicate']),
      run([]),
      run(['models', '--colour']),
      run(['serve', '--colour']),
      run(['serve'], { RERANKER_PORT: 'eighty' }),
      run(['download']),
    ])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('rerank-kit: unknown command "frobnicate"')
    expect(noCommand.code).toBe(2)
    expect(noCommand.stderr).toContain('Usage: rerank-kit <command>')
    expect(badFlag.code).toBe(2)
    expect(badFlag.stderr).toContain('Unknown flag --colour for models')
    expect(badServeFlag.code).toBe(2)
    expect(badServeFlag.stderr).toContain('rerank-kit: Unknown flag --colour')
    expect(badSetting.code).toBe(2)
    expect(badSetting.stderr).toContain('Invalid RERANKER_PORT="eighty" (from the environment)')
    expect(noModel.code).toBe(2)
    expect(noModel.stderr).toContain('download needs a model')
  })
})

describe('rerank-kit serve', () => {
  it('serves the fixture model with the in-process scores, then stops on SIGTERM with exit 0', async () => {
    const server = start(['serve', '--model-path', fixture, '--port', '0', '--host', '127.0.0.1'])
    const [, url] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))!
    await server.waitFor(/ INFO {2}ready /)
    expect(await servedScores(url!, 'tiny-bert-reranker')).toEqual(expectedScores)
    // The same request again: its tokens, as the answer reports them (x-compute-tokens), were scored twice.
    const again = await fetch(`${url}/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-bert-reranker', ...request, return_documents: false }),
    })
    const servedTokens = 2 * Number(again.headers.get('x-compute-tokens'))
    expect(servedTokens).toBeGreaterThan(0)
    // The local engine's series on /metrics, parsed as Prometheus text: the per-batch histograms agree with
    // the counters (one observation per batch, the pairs summed), and no worker restarted.
    const families = parsePrometheus(await (await fetch(`${url}/metrics`)).text())
    const only = (name: string) => {
      const metrics = families.find((family) => family.name === name)?.metrics ?? []
      expect(metrics, name).toHaveLength(1)
      expect(metrics[0]!.labels, name).toEqual({ model: 'tiny-bert-reranker' })
      return metrics[0]!
    }
    const batches = only('rerank_kit_engine_batches_total').value
    expect(Number(batches)).toBeGreaterThanOrEqual(1)
    expect(only('rerank_kit_engine_batch_size')).toMatchObject({
      count: batches,
      sum: only('rerank_kit_engine_pairs_total').value,
    })
    expect(only('rerank_kit_engine_batch_padding_ratio').count).toBe(batches)
    expect(only('rerank_kit_engine_worker_restarts_total').value).toBe('0')
    // Tokens scored: what the answers reported, and at least as many run with padding.
    const tokens = Number(only('rerank_kit_engine_tokens_total').value)
    expect(tokens).toBe(servedTokens)
    expect(Number(only('rerank_kit_engine_padded_tokens_total').value)).toBeGreaterThanOrEqual(tokens)
    // Which execution provider serves the model, on /metrics and /v1/models (cpu: no GPU here).
    expect(families.find((family) => family.name === 'rerank_kit_engine_info')?.metrics).toEqual([
      { value: '1', labels: { model: 'tiny-bert-reranker', provider: 'cpu' } },
    ])
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: unknown[] }
    expect(models.data).toEqual([
      { id: 'tiny-bert-reranker', object: 'model', owned_by: 'rerank-kit', provider: 'cpu' },
    ])
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(server.stderr()).toMatch(/SIGTERM: no new connections[\s\S]*stopped/)
  })
})

describe('rerank-kit serve logs', () => {
  it('RERANKER_LOG_FORMAT=json: every line is one JSON object; LOG_REQUESTS adds one line per request', async () => {
    const server = start(['serve', '--model-path', fixture, '--port', '0', '--host', '127.0.0.1'], {
      RERANKER_LOG_FORMAT: 'json',
      RERANKER_LOG_REQUESTS: 'true',
    })
    await server.waitFor(/"msg":"ready"/)
    const listening = server
      .stderr()
      .split('\n')
      .find((line) => line.includes('listening on'))!
    const url = (JSON.parse(listening) as { msg: string }).msg.replace('listening on ', '')
    expect(await servedScores(url, 'tiny-bert-reranker')).toEqual(expectedScores)
    expect((await fetch(`${url}/nope?secret=1`)).status).toBe(404)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    const lines = server
      .stderr()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    for (const line of lines) {
      expect(line).toMatchObject({
        time: expect.any(String),
        level: expect.any(String),
        msg: expect.any(String),
      })
    }
    const requests = lines.filter((line) => line.msg === 'request')
    expect(requests).toEqual([
      {
        requestId: expect.any(String),
        method: 'POST',
        route: '/rerank',
        status: 200,
        durationMs: expect.any(Number),
        documents: 2,
        tokens: expect.any(Number),
        time: expect.any(String),
        level: 'info',
        msg: 'request',
      },
      expect.objectContaining({ method: 'GET', route: 'other', status: 404 }),
    ])
    expect(requests[0]!.tokens).toBeGreaterThan(0)
    // Neither the query nor a document nor the query string is logged.
    expect(server.stderr()).not.toMatch(/capital of France|Bananas|secret=1/)
  })
})

describe('rerank-kit serve in load-balancer mode with local/<name> deployments', () => {
  it('each group gets the model its deployment names, loaded beside the settings model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rerank-kit-local-named-'))
    const xlmr = join(fixture, '../tiny-xlmr-reranker')
    try {
      const config = join(dir, 'router.yaml')
      await writeFile(
        config,
        [
          'model_list:',
          '  - model_name: bert',
          '    litellm_params: { model: local }',
          '  - model_name: xlmr',
          `    litellm_params: { model: "local/${xlmr}" }`,
        ].join('\n'),
      )
      const server = start(['serve', '--model-path', fixture, '--port', '0', '--host', '127.0.0.1'], {
        RERANKER_LOAD_BALANCER_ENABLED: 'true',
        RERANKER_CONFIG_PATH: config,
      })
      const [, url] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))!
      await server.waitFor(/ INFO {2}ready /)
      const reranker = await LocalReranker.create({ models: [{ model: xlmr, workers: 1 }] })
      try {
        const xlmrScores = (await reranker.rerank(request)).results
          .sort((a, b) => a.index - b.index)
          .map((result) => result.score)
        expect(await servedScores(url!, 'bert')).toEqual(expectedScores)
        expect(await servedScores(url!, 'xlmr')).toEqual(xlmrScores)
        // Two different models: the same scores would mean the group got the loaded default.
        expect(xlmrScores).not.toEqual(expectedScores)
      } finally {
        await reranker.close()
      }
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('rerank-kit download, models, serve --use-offline-mode', () => {
  let hub: FakeHub
  let cache: string
  beforeAll(async () => {
    hub = await FakeHub.start()
    await hub.addModel('org/tiny-bert', 'main', await fixtureModelFiles())
    cache = await mkdtemp(join(tmpdir(), 'rerank-kit-cli-cache-'))
  })
  afterAll(async () => {
    await hub.close()
    await rm(cache, { recursive: true, force: true })
  })

  it('downloads with progress and verifies; models lists it; serve and check use it offline', async () => {
    const download = await run(['download', 'org/tiny-bert', '--dir', cache], { HF_ENDPOINT: hub.url })
    expect(download.stderr).toContain(`Downloading org/tiny-bert (revision main) from ${hub.url}`)
    expect(download.code).toBe(0)
    // Not a terminal: plain progress lines, never carriage returns.
    expect(download.stderr).toMatch(/\[#{20}\] 100% onnx\/model\.onnx \(176 KB\)\n/)
    expect(download.stderr).not.toContain('\r')
    const dir = join(cache, 'models--org--tiny-bert', 'revisions', 'main')
    expect(download.stdout).toContain(`Downloaded org/tiny-bert (revision main, fp32) in ${dir}`)
    expect(download.stdout).toMatch(/Verified: loads offline on cpu and scores \(0\.\d{4} for a test pair\)/)
    expect(download.stdout).toContain('rerank-kit serve --model-name org/tiny-bert')

    const again = await run(['download', 'org/tiny-bert', '--dir', cache], { HF_ENDPOINT: hub.url })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('Already cached: org/tiny-bert')

    const listed = await run(['models', '--dir', cache])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain(`Models in ${cache}:`)
    expect(listed.stdout).toMatch(/REPO +REVISION +DTYPES +FILES +SIZE +STATUS/)
    expect(listed.stdout).toMatch(/org\/tiny-bert +main +fp32 +5 +195 KB +ready/)

    const requestsBefore = hub.requests.length
    const checked = await run(['check', '--model-name', 'org/tiny-bert', '--model-cache-dir', cache])
    expect(checked.code).toBe(0)
    expect(checked.stdout).toContain(`"org/tiny-bert" from the cache ${dir}`)

    const server = start(
      ['serve', '--model-name', 'org/tiny-bert', '--model-cache-dir', cache, '--use-offline-mode'],
      { RERANKER_PORT: '0', RERANKER_HOST: '127.0.0.1' },
    )
    const [, url] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))!
    await server.waitFor(/ INFO {2}ready /)
    expect(await servedScores(url!, 'org/tiny-bert')).toEqual(expectedScores)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(hub.requests.length).toBe(requestsBefore)
  })

  it('fails with exit 1 and the reason when the hub is unreachable', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((resolve) => closed.close(resolve))
    const empty = await mkdtemp(join(tmpdir(), 'rerank-kit-cli-empty-'))
    try {
      const download = await run(['download', 'org/tiny-bert', '--dir', empty], { HF_ENDPOINT: deadUrl })
      expect(download.code).toBe(1)
      expect(download.stderr).toContain(`rerank-kit download: Could not reach the hub at ${deadUrl}`)
      expect(download.stdout).not.toContain('Verified')
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })
})

describe('rerank-kit check', () => {
  it('prints node, devices, the thread plan and where the model comes from', async () => {
    const local = await run(['check', '--model-path', fixture, '--workers', '1'])
    expect(local.code).toBe(0)
    expect(local.stdout).toMatch(/^node +v\d+/m)
    expect(local.stdout).toMatch(/^devices +.*webgpu \(bundled\).*cpu \(bundled\)/m)
    // What auto leaves out on this machine (here: no CUDA libraries, no Vulkan loader), each with its reason.
    const absence = acceleratorAbsence()
    for (const provider of ['cuda', 'webgpu'] as const) {
      const reason = absence(provider)
      if (reason !== undefined) expect(local.stdout).toContain(`${provider} skipped: ${reason}`)
    }
    const webgpu = await run(['check', '--model-path', fixture, '--workers', '1', '--device', 'webgpu'])
    expect(webgpu.stdout).toMatch(/^device +webgpu: webgpu only/m)
    const missing = absence('webgpu')
    if (missing !== undefined) expect(webgpu.stdout).toContain(`(will not start: ${missing})`)
    expect(local.stdout).toMatch(/^workers +1 inference worker x \d+ onnxruntime threads?$/m)
    expect(local.stdout).toContain(`"tiny-bert-reranker" from the local folder ${fixture}`)
    expect(local.stdout).toMatch(/^load test +loaded on cpu in /m)

    // A model to download: check-hub.test.ts (the hub asked, on loopback only).
    const cache = join(tmpdir(), 'rerank-kit-cli-no-cache')
    const offline = await run(['check', '--model-name', 'org/absent', '--model-cache-dir', cache], {
      HF_HUB_OFFLINE: '1',
    })
    expect(offline.code).toBe(1)
    expect(offline.stdout).toContain('"org/absent" would not load (offline mode)')
  })
})

describe('rerank-kit check in load-balancer mode', () => {
  it('validates the router config and lists where each deployment sends, never its key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rerank-kit-check-lb-'))
    try {
      const config = join(dir, 'router.yaml')
      await writeFile(
        config,
        [
          'model_list:',
          '  - model_name: rerank',
          '    litellm_params:',
          '      model: cohere/rerank-v3.5',
          '      api_base: http://127.0.0.1:9',
          '      api_key: os.environ/CHECK_TEST_KEY',
          '  - model_name: rerank',
          '    litellm_params:',
          '      model: BAAI/bge-reranker-base',
          '      format: tei',
          '      api_base: http://127.0.0.1:10',
          'router_settings:',
          '  routing_strategy: least-busy',
        ].join('\n'),
      )
      const env = {
        RERANKER_LOAD_BALANCER_ENABLED: 'true',
        RERANKER_CONFIG_PATH: config,
        CHECK_TEST_KEY: 'sk-check-secret',
      }
      const remote = await run(['check', '--workers', '1'], env)
      expect(remote.code, remote.stderr).toBe(0)
      expect(remote.stdout).toMatch(
        new RegExp(`^mode +load balancer over ${config}: 2 deployments in "rerank", least-busy$`, 'm'),
      )
      expect(remote.stdout).toMatch(
        /^deployment +rerank#0: cohere at http:\/\/127\.0\.0\.1:9 \(model "rerank-v3\.5"\)$/m,
      )
      expect(remote.stdout).toMatch(/^deployment +rerank#1: tei at http:\/\/127\.0\.0\.1:10/m)
      expect(remote.stdout).toMatch(/^model +none: the config routes to remote deployments only$/m)
      expect(remote.stdout + remote.stderr).not.toContain('sk-check-secret')

      // A bad value: exit 2, with the file and the key named, before any model is looked at.
      await writeFile(
        config,
        [
          'model_list:',
          '  - model_name: rerank',
          '    litellm_params:',
          '      api_base: http://127.0.0.1:9',
          '      rpm: -1',
        ].join('\n'),
      )
      const bad = await run(['check'], env)
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain(config)
      expect(bad.stderr).toContain('model_list[0].litellm_params.rpm')
      expect(bad.stdout).not.toMatch(/^model /m)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('names the keys it does not read: check lists them, serve warns once, --strict-config refuses', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rerank-kit-check-unread-'))
    try {
      const config = join(dir, 'router.yaml')
      await writeFile(
        config,
        [
          'model_list:',
          '  - model_name: rerank',
          '    litellm_params:',
          '      model: cohere/rerank-v3.5',
          '      api_base: http://127.0.0.1:9',
          '      api_key: sk-unread-secret',
          'litellm_settings:',
          '  drop_params: true',
          '  num_retries: 1',
          'general_settings:',
          '  master_key: sk-master-secret',
        ].join('\n'),
      )
      const env = { RERANKER_LOAD_BALANCER_ENABLED: 'true', RERANKER_CONFIG_PATH: config }
      const listed = await run(['check', '--workers', '1'], env)
      expect(listed.code, listed.stderr).toBe(0)
      expect(listed.stdout).toMatch(
        /^unsupported +ignored \(not read by rerank-kit\): litellm_settings\.drop_params, general_settings$/m,
      )

      const server = start(['serve', '--host', '127.0.0.1', '--port', '0'], env)
      await server.waitFor(/ INFO {2}ready /)
      const warnings = server
        .stderr()
        .split('\n')
        .filter((line) => / WARN /.test(line))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain('router config keys not supported by rerank-kit are ignored')
      expect(warnings[0]).toContain('litellm_settings.drop_params, general_settings')
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)

      const strict = await run(['check', '--strict-config'], env)
      expect(strict.code).toBe(2)
      expect(strict.stderr).toContain('litellm_settings.drop_params: not supported by rerank-kit')
      const strictServe = await run(['serve', '--host', '127.0.0.1', '--port', '0'], {
        ...env,
        RERANKER_STRICT_CONFIG: 'true',
      })
      expect(strictServe.code).toBe(2)
      expect(strictServe.stderr).toContain('general_settings: not supported by rerank-kit')
      for (const output of [
        listed.stdout,
        listed.stderr,
        server.stderr(),
        strict.stderr,
        strictServe.stderr,
      ]) {
        expect(output).not.toMatch(/sk-(unread|master)-secret/)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('runCli in process', () => {
  it('lists an empty cache and writes only through the io it is given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rerank-kit-cli-models-'))
    let stdout = ''
    const io = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
      // The default cache follows XDG_CACHE_HOME in the io's environment, not the test process's.
      env: { XDG_CACHE_HOME: dir },
      cwd: dir,
    }
    try {
      expect(await runCli(['models'], io)).toBe(0)
      expect(stdout).toBe(
        `No models cached in ${join(dir, 'rerank-kit', 'models')} (rerank-kit download <org/name> adds one)\n`,
      )
      stdout = ''
      expect(await runCli(['models', '--json', '--dir', '.'], io)).toBe(0)
      expect(JSON.parse(stdout)).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
