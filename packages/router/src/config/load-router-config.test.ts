import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadRouterConfig, parseRouterConfig } from './load-router-config'
import type { RouterConfig } from './router-config'
import { RouterConfigError } from './router-config-error'

const cohereKey = 'co-live-9f8e7d6c5b4a'
const jinaKey = 'jina_live_0a1b2c3d4e5f'
const redisUrl = 'rediss://default:redis-pw-77aa@cache.internal:6380/0'

const env = {
  COHERE_API_KEY: cohereKey,
  JINA_API_KEY: jinaKey,
  TEI_URL: 'http://tei.internal:8080',
  REDIS_URL: redisUrl,
}

// A LiteLLM proxy config as people write them: provider prefixes, os.environ/ secrets, limits inside
// litellm_params and on the entry, model_info, and sections this router does not read.
const litellmYaml = `
model_list:
  - model_name: rerank-english
    litellm_params:
      model: cohere/rerank-english-v3.0
      api_base: https://api.cohere.com
      api_key: os.environ/COHERE_API_KEY
      rpm: 100
      timeout: 10
      tags: ["paid", "default"]
      max_retries: 0          # LiteLLM-only key: listed as unsupported
    model_info:
      id: cohere-primary
      mode: rerank
      input_cost_per_query: 0.002
  - model_name: rerank-english
    litellm_params:
      model: huggingface/BAAI/bge-reranker-large
      api_base: os.environ/TEI_URL
      order: 2
    weight: 3
    tpm: 200000
  - model_name: rerank-multilingual
    litellm_params:
      model: jina_ai/jina-reranker-v2-base-multilingual
      api_base: https://api.jina.ai
      api_key: os.environ/JINA_API_KEY
      tpm: 1000000
      max_parallel_requests: 8
  - model_name: rerank-multilingual
    litellm_params:
      model: BAAI/bge-reranker-v2-m3
      format: jina
      api_base: http://reranker-serve:8000
      path: /api/v1/rerank
    priority: 1
    weight: 0.5
  - model_name: rerank-qwen
    litellm_params:
      model: infinity/michaelfeil/qwen3-reranker-0.6b-seq
      format: infinity-classify
      api_base: http://infinity:7997
      api_key:                # empty: not set
  - model_name: rerank-local
    litellm_params:
      model: local

router_settings:
  routing_strategy: usage-based-routing-v2
  num_retries: 3
  retry_after: 0.5
  cooldown_time: 30
  allowed_fails: 2
  timeout: 20
  fallbacks: [{"rerank-english": ["rerank-multilingual", "rerank-local"]}, {"rerank-multilingual": ["rerank-local"]}]
  fallback_to_local: true
  health_check_interval: 60
  health_check_path: /health
  redis_url: os.environ/REDIS_URL
  routing_strategy_args: {"lowest_latency_buffer": 0.2, "ttl": 3600}
  enable_pre_call_checks: true
  retry_policy: {"RateLimitErrorRetries": 5, "TimeoutErrorRetries": 1, "BadRequestErrorRetries": 0}
  allowed_fails_policy: {"InternalServerErrorAllowedFails": 4}
  model_group_alias: {"rerank-v3": "rerank-english", "legacy": {"model": "rerank-multilingual", "hidden": true}}
  enable_tag_filtering: true

litellm_settings:
  drop_params: true
  success_callback: ["langfuse"]

general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY   # unset in the test env: keys we do not read need no variable
  database_url: os.environ/DATABASE_URL
`

/** A state key derived from the deployment's target: its group, then 16 hex digits of a hash. */
const hashedKey = (group: string): string => expect.stringMatching(new RegExp(`^${group}:[0-9a-f]{16}$`))

const expectedConfig: RouterConfig = {
  deployments: [
    {
      id: 'rerank-english#0',
      stateKey: 'cohere-primary',
      modelName: 'rerank-english',
      local: false,
      format: 'cohere',
      apiBase: 'https://api.cohere.com',
      apiKey: cohereKey,
      model: 'rerank-english-v3.0',
      weight: 1,
      priority: 0,
      rpm: 100,
      timeoutMs: 10_000,
      tags: ['paid', 'default'],
      inputCostPerQuery: 0.002,
    },
    {
      id: 'rerank-english#1',
      stateKey: hashedKey('rerank-english'),
      modelName: 'rerank-english',
      local: false,
      format: 'tei',
      apiBase: 'http://tei.internal:8080',
      model: 'BAAI/bge-reranker-large',
      weight: 3,
      priority: 2,
      tpm: 200_000,
    },
    {
      id: 'rerank-multilingual#0',
      stateKey: hashedKey('rerank-multilingual'),
      modelName: 'rerank-multilingual',
      local: false,
      format: 'jina',
      apiBase: 'https://api.jina.ai',
      apiKey: jinaKey,
      model: 'jina-reranker-v2-base-multilingual',
      weight: 1,
      priority: 0,
      tpm: 1_000_000,
      maxParallelRequests: 8,
    },
    {
      id: 'rerank-multilingual#1',
      stateKey: hashedKey('rerank-multilingual'),
      modelName: 'rerank-multilingual',
      local: false,
      format: 'jina',
      apiBase: 'http://reranker-serve:8000',
      model: 'BAAI/bge-reranker-v2-m3',
      path: '/api/v1/rerank',
      weight: 0.5,
      priority: 1,
    },
    {
      id: 'rerank-qwen#0',
      stateKey: hashedKey('rerank-qwen'),
      modelName: 'rerank-qwen',
      local: false,
      format: 'infinity-classify',
      apiBase: 'http://infinity:7997',
      model: 'michaelfeil/qwen3-reranker-0.6b-seq',
      weight: 1,
      priority: 0,
    },
    {
      id: 'rerank-local#0',
      stateKey: hashedKey('rerank-local'),
      modelName: 'rerank-local',
      local: true,
      weight: 1,
      priority: 0,
    },
  ],
  settings: {
    routingStrategy: 'usage-based-routing',
    numRetries: 3,
    retryDelayMs: 500,
    cooldownTimeMs: 30_000,
    maxCooldownTimeMs: 300_000,
    allowedFails: 2,
    fallbacks: {
      'rerank-english': ['rerank-multilingual', 'rerank-local'],
      'rerank-multilingual': ['rerank-local'],
    },
    defaultFallbacks: [],
    contextWindowFallbacks: {},
    fallbackToLocal: true,
    healthCheckIntervalMs: 60_000,
    healthCheckPath: '/health',
    redisUrl,
    latencyBuffer: 0.2,
    timeoutMs: 20_000,
    retryPolicy: { rateLimit: 5, timeout: 1, badRequest: 0 },
    allowedFailsPolicy: { internalServer: 4 },
    groupAliases: {
      'rerank-v3': { group: 'rerank-english', hidden: false },
      legacy: { group: 'rerank-multilingual', hidden: true },
    },
    enableTagFiltering: true,
  },
  // Named, not dropped: the server warns once at start, and `strict: true` refuses them.
  unsupportedKeys: [
    'model_list[0].litellm_params.max_retries',
    'model_list[0].model_info.mode',
    'router_settings.routing_strategy_args.ttl',
    'router_settings.enable_pre_call_checks',
    'litellm_settings.drop_params',
    'litellm_settings.success_callback',
    'general_settings',
  ],
}

let dir: string
let counter = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'router-config-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function writeConfig(text: string): Promise<string> {
  counter += 1
  const file = join(dir, `config-${counter}.yaml`)
  await writeFile(file, text)
  return file
}

/** The RouterConfigError a call throws (fails the test when it does not throw one). */
function configError(run: () => unknown): RouterConfigError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(RouterConfigError)
    return error as RouterConfigError
  }
  throw new Error('expected a RouterConfigError')
}

async function loadError(file: string, loadEnv: Record<string, string> = env): Promise<RouterConfigError> {
  const error = await loadRouterConfig(file, loadEnv).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(RouterConfigError)
  return error as RouterConfigError
}

/** One remote deployment with its litellm_params overridden: the smallest valid config, then broken. */
function oneDeployment(params: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    model_list: [
      { model_name: 'rerank', litellm_params: { api_base: 'http://localhost:8000', ...params }, ...extra },
    ],
  }
}

describe('loadRouterConfig', () => {
  it('loads a LiteLLM config to the normalised config', async () => {
    const config = await loadRouterConfig(await writeConfig(litellmYaml), env)
    expect(config).toStrictEqual(expectedConfig)
  })

  it('reads process.env by default', async () => {
    const file = await writeConfig(
      'model_list:\n  - model_name: a\n    litellm_params: { api_base: os.environ/RERANK_KIT_TEST_BASE }\n',
    )
    process.env.RERANK_KIT_TEST_BASE = 'http://from-process-env:1'
    try {
      const config = await loadRouterConfig(file)
      expect(config.deployments[0]?.apiBase).toBe('http://from-process-env:1')
    } finally {
      delete process.env.RERANK_KIT_TEST_BASE
    }
  })

  it('accepts YAML merge keys for shared litellm_params', async () => {
    const file = await writeConfig(`
x-defaults: &defaults
  api_base: http://tei:8080
  format: tei
model_list:
  - model_name: a
    litellm_params: { <<: *defaults, model: BAAI/bge-reranker-base }
  - model_name: a
    litellm_params: { <<: *defaults, api_base: http://tei-2:8080 }
`)
    const config = await loadRouterConfig(file, env)
    expect(config.deployments.map((d) => [d.id, d.format, d.apiBase, d.model])).toEqual([
      ['a#0', 'tei', 'http://tei:8080', 'BAAI/bge-reranker-base'],
      ['a#1', 'tei', 'http://tei-2:8080', undefined],
    ])
  })

  it('names the file and the line of a YAML syntax error', async () => {
    const file = await writeConfig(
      [
        'model_list:',
        '  - model_name: rerank',
        '    litellm_params:',
        '      api_base: http://localhost:8000',
        '     rpm: 10',
      ].join('\n'),
    )
    const error = await loadError(file)
    expect(error.message).toContain(file)
    expect(error.message).toMatch(/YAML syntax error at line 5, column \d+/)
  })

  it('names the file for a validation error', async () => {
    const file = await writeConfig('model_list:\n  - model_name: a\n    litellm_params: { rpm: fast }\n')
    const error = await loadError(file)
    expect(error.message).toBe(
      `Invalid router config in ${file}: model_list[0].litellm_params.rpm: expected a number`,
    )
  })

  it('reports a missing file as a config error', async () => {
    const error = await loadError(join(dir, 'missing.yaml'))
    expect(error.message).toContain('missing.yaml')
    expect(error.message).toContain('ENOENT')
  })

  it('rejects an empty file', async () => {
    const error = await loadError(await writeConfig('# nothing yet\n'))
    expect(error.issues).toEqual([{ path: '', message: 'expected a map' }])
  })
})

describe('parseRouterConfig', () => {
  it('applies the defaults to a minimal config', () => {
    const config = parseRouterConfig(
      { model_list: [{ model_name: 'a', litellm_params: { model: 'local' } }] },
      {},
    )
    expect(config).toStrictEqual({
      deployments: [
        { id: 'a#0', stateKey: hashedKey('a'), modelName: 'a', local: true, weight: 1, priority: 0 },
      ],
      settings: {
        routingStrategy: 'simple-shuffle',
        numRetries: 2,
        retryDelayMs: 250,
        cooldownTimeMs: 5_000,
        maxCooldownTimeMs: 300_000,
        allowedFails: 3,
        fallbacks: {},
        defaultFallbacks: [],
        contextWindowFallbacks: {},
        fallbackToLocal: false,
        latencyBuffer: 0,
        enableTagFiltering: false,
      },
      unsupportedKeys: [],
    })
  })

  it("takes the seed's shape: no model, limits on the entry, native format", () => {
    const config = parseRouterConfig(
      {
        model_list: [
          {
            model_name: 'primary-reranker',
            litellm_params: { api_base: 'http://server1:8000', api_key: 'optional-key' },
            weight: 2.0,
            priority: 0,
          },
        ],
        router_settings: { routing_strategy: 'weighted-random', retry_delay: 1.0, fallback_to_local: true },
      },
      {},
    )
    expect(config.deployments[0]).toStrictEqual({
      id: 'primary-reranker#0',
      stateKey: hashedKey('primary-reranker'),
      modelName: 'primary-reranker',
      local: false,
      format: 'native',
      apiBase: 'http://server1:8000',
      apiKey: 'optional-key',
      weight: 2,
      priority: 0,
    })
    expect(config.settings).toMatchObject({ routingStrategy: 'weighted-random', retryDelayMs: 1_000 })
  })

  it('infers the format from the provider prefix; an explicit format wins', () => {
    const formats = (['cohere', 'jina_ai', 'infinity', 'voyage', 'mixedbread', 'huggingface'] as const).map(
      (provider) => parseRouterConfig(oneDeployment({ model: `${provider}/m` }), {}).deployments[0],
    )
    expect(formats.map((d) => [d?.format, d?.model])).toEqual([
      ['cohere', 'm'],
      ['jina', 'm'],
      ['infinity', 'm'],
      ['voyage', 'm'],
      ['mixedbread', 'm'],
      ['tei', 'm'],
    ])
    const explicit = parseRouterConfig(
      oneDeployment({ model: 'cohere/rerank-v3.5', format: 'cohere-v2' }),
      {},
    )
    expect(explicit.deployments[0]).toMatchObject({ format: 'cohere-v2', model: 'rerank-v3.5' })
  })

  it('treats format local as the in-process model and keeps the model to load', () => {
    const config = parseRouterConfig(
      {
        model_list: [
          { model_name: 'a', litellm_params: { format: 'local', model: 'Xenova/bge-reranker-base' } },
        ],
      },
      {},
    )
    expect(config.deployments[0]).toStrictEqual({
      id: 'a#0',
      stateKey: hashedKey('a'),
      modelName: 'a',
      local: true,
      model: 'Xenova/bge-reranker-base',
      weight: 1,
      priority: 0,
    })
  })

  it('keys shared state by what a deployment calls, not by its position in the config', () => {
    const entry = (api_base: string, extra: Record<string, unknown> = {}) => ({
      model_name: 'rerank',
      litellm_params: { api_base, format: 'tei' },
      ...extra,
    })
    const keys = (list: Record<string, unknown>[], settings?: Record<string, unknown>) =>
      parseRouterConfig({ model_list: list, router_settings: settings } as never, {}).deployments.map(
        (deployment) => deployment.stateKey,
      )
    const [a, b] = keys([entry('http://a:1'), entry('http://b:1')])
    // Another config listing the same backends the other way round: same keys for the same backends.
    expect(keys([entry('http://b:1'), entry('http://a:1')])).toEqual([b, a])
    expect(a).not.toBe(b)
    // Another config's first deployment on another backend: not rerank#0's key of the first config.
    expect(keys([entry('http://c:1')])[0]).not.toBe(a)
    // Two deployments of one backend (two keys for one endpoint) are still two.
    expect(keys([entry('http://a:1'), entry('http://a:1')])).toEqual([a, `${a}~1`])
    // model_info.id names the state; the same id twice is an error.
    expect(keys([entry('http://a:1', { model_info: { id: 'tei-a' } })])).toEqual(['tei-a'])
    const duplicate = configError(() =>
      keys([
        entry('http://a:1', { model_info: { id: 'x' } }),
        entry('http://b:1', { model_info: { id: 'x' } }),
      ]),
    )
    expect(duplicate.issues).toEqual([
      { path: 'model_list[1].model_info.id', message: 'another deployment already has this id' },
    ])
  })

  it('reads max_cooldown_time, redis_namespace and max_response_bytes', () => {
    const config = parseRouterConfig(
      {
        ...oneDeployment({}),
        router_settings: { max_cooldown_time: 60, redis_namespace: 'team-a', max_response_bytes: 1_000_000 },
      },
      {},
    )
    expect(config.settings).toMatchObject({
      maxCooldownTimeMs: 60_000,
      redisNamespace: 'team-a',
      maxResponseBytes: 1_000_000,
    })
  })

  it('accepts the same limit in both places when the values agree', () => {
    const config = parseRouterConfig(oneDeployment({ rpm: 10, order: 1 }, { rpm: 10, priority: 1 }), {})
    expect(config.deployments[0]).toMatchObject({ rpm: 10, priority: 1 })
  })
})

describe('parseRouterConfig errors', () => {
  it('names the path of a wrong type', () => {
    const error = configError(() => parseRouterConfig(oneDeployment({ rpm: '100' }), {}))
    expect(error.issues).toEqual([{ path: 'model_list[0].litellm_params.rpm', message: 'expected a number' }])
    expect(error.message).toBe('Invalid router config: model_list[0].litellm_params.rpm: expected a number')
  })

  it('reports other wrong types in the words of YAML', () => {
    const error = configError(() =>
      parseRouterConfig(
        {
          model_list: [{ model_name: 'a', litellm_params: { api_base: 'http://a', tpm: 1.5 }, weight: -1 }],
          router_settings: { fallbacks: { a: ['b'] }, fallback_to_local: 'yes', timeout: 0 },
        },
        {},
      ),
    )
    expect(error.issues).toEqual([
      { path: 'model_list[0].litellm_params.tpm', message: 'expected an integer' },
      { path: 'model_list[0].weight', message: 'expected a number >= 0' },
      { path: 'router_settings.fallbacks', message: 'expected a list' },
      { path: 'router_settings.fallback_to_local', message: 'expected true or false' },
      { path: 'router_settings.timeout', message: 'expected a number > 0' },
    ])
    expect(error.message).toMatch(/; .*; .* \(and 2 more\)$/)
  })

  it('requires model_name', () => {
    const error = configError(() =>
      parseRouterConfig({ model_list: [{ litellm_params: { api_base: 'http://localhost:8000' } }] }, {}),
    )
    expect(error.issues).toEqual([{ path: 'model_list[0].model_name', message: 'is required' }])
  })

  it('requires a non-empty model_list', () => {
    expect(configError(() => parseRouterConfig({ router_settings: {} }, {})).issues).toEqual([
      { path: 'model_list', message: 'is required' },
    ])
    expect(configError(() => parseRouterConfig({ model_list: [] }, {})).issues).toEqual([
      { path: 'model_list', message: 'expected at least 1 item' },
    ])
  })

  it('requires api_base on a remote deployment and refuses it on a local one', () => {
    const config = {
      model_list: [
        { model_name: 'a', litellm_params: { model: 'infinity/BAAI/bge-reranker-base' } },
        { model_name: 'b', litellm_params: { model: 'local', api_base: 'http://localhost:8000' } },
        { model_name: 'c', litellm_params: { api_base: 'ftp://files' } },
      ],
    }
    const error = configError(() => parseRouterConfig(config, {}))
    expect(error.issues).toEqual([
      {
        path: 'model_list[0].litellm_params.api_base',
        message:
          'is required for a remote deployment (or set INFINITY_API_BASE) (model "local" means the in-process model)',
      },
      {
        path: 'model_list[1].litellm_params.api_base',
        message: 'not allowed on a local deployment (model or format "local")',
      },
      { path: 'model_list[2].litellm_params.api_base', message: 'expected an http(s) URL' },
    ])
  })

  it('lists the valid routing strategies', () => {
    const error = configError(() =>
      parseRouterConfig({ ...oneDeployment({}), router_settings: { routing_strategy: 'lowest-cost' } }, {}),
    )
    expect(error.issues).toEqual([
      {
        path: 'router_settings.routing_strategy',
        message:
          'expected one of simple-shuffle, weighted-random, round-robin, least-busy, latency-based-routing, ' +
          'priority-failover, usage-based-routing, cost-based-routing, usage-based-routing-v2',
      },
    ])
  })

  it('lists the valid formats', () => {
    const error = configError(() => parseRouterConfig(oneDeployment({ format: 'openai' }), {}))
    expect(error.issues).toEqual([
      {
        path: 'model_list[0].litellm_params.format',
        message:
          'expected one of native, cohere, cohere-v2, jina, tei, infinity, infinity-classify, voyage, ' +
          'mixedbread, local',
      },
    ])
  })

  it('rejects a fallback to an unknown group, from an unknown group, or to itself', () => {
    const error = configError(() =>
      parseRouterConfig(
        {
          model_list: [
            { model_name: 'rerank-english', litellm_params: { model: 'local' } },
            { model_name: 'BAAI/bge-reranker-base', litellm_params: { model: 'local' } },
          ],
          router_settings: {
            fallbacks: [
              { 'rerank-english': ['BAAI/bge-reranker-base', 'rerank-typo'] },
              { 'rerank-missing': ['rerank-english'], 'BAAI/bge-reranker-base': ['BAAI/bge-reranker-base'] },
              { 'rerank-english': [] },
            ],
          },
        },
        {},
      ),
    )
    const known = 'expected one of rerank-english, BAAI/bge-reranker-base'
    expect(error.issues).toEqual([
      {
        path: 'router_settings.fallbacks[0].rerank-english[1]',
        message: `unknown model_name "rerank-typo": ${known}`,
      },
      {
        path: 'router_settings.fallbacks[1].rerank-missing',
        message: `unknown model_name "rerank-missing": ${known}`,
      },
      {
        path: 'router_settings.fallbacks[1]["BAAI/bge-reranker-base"][0]',
        message: 'a group cannot fall back to itself',
      },
      {
        path: 'router_settings.fallbacks[2].rerank-english',
        message: 'fallbacks for this group are already listed in an earlier entry',
      },
    ])
  })

  it('rejects a limit set twice with different values', () => {
    const error = configError(() =>
      parseRouterConfig(oneDeployment({ rpm: 10, order: 1 }, { rpm: 20, priority: 2 }), {}),
    )
    expect(error.issues).toEqual([
      {
        path: 'model_list[0].litellm_params.order',
        message: 'conflicts with model_list[0].priority: set one of them, or both alike',
      },
      {
        path: 'model_list[0].litellm_params.rpm',
        message: 'conflicts with model_list[0].rpm: set one of them, or both alike',
      },
    ])
  })

  it('rejects a provider prefix without a model, bad paths and a non-Redis URL', () => {
    const error = configError(() =>
      parseRouterConfig(
        {
          ...oneDeployment({ model: 'cohere/', path: 'v1/rerank' }),
          router_settings: { health_check_path: 'health', redis_url: 'http://cache:6379' },
        },
        {},
      ),
    )
    expect(error.issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      'model_list[0].litellm_params.model: expected a model name after the provider prefix',
      'model_list[0].litellm_params.path: expected a path starting with /',
      'router_settings.health_check_path: expected a path starting with /',
      'router_settings.redis_url: expected a redis:// or rediss:// URL',
    ])
  })

  it('names a missing environment variable, not the values of others', () => {
    const config = {
      model_list: [
        {
          model_name: 'a',
          litellm_params: { api_base: 'os.environ/TEI_URL', api_key: 'os.environ/COHERE_API_KEY' },
        },
      ],
      router_settings: { redis_url: 'os.environ/REDIS_URL' },
    }
    const error = configError(() => parseRouterConfig(config, { TEI_URL: 'http://tei:8080' }))
    expect(error.issues).toEqual([
      {
        path: 'model_list[0].litellm_params.api_key',
        message: 'environment variable COHERE_API_KEY is not set',
      },
      { path: 'router_settings.redis_url', message: 'environment variable REDIS_URL is not set' },
    ])
    expect(error.message).not.toContain('http://tei:8080')
  })
})

describe('secrets in error messages', () => {
  const secrets = [cohereKey, jinaKey, redisUrl, 'redis-pw-77aa', 'user:hunter2']

  function expectNoSecret(error: RouterConfigError) {
    const text = `${error.message}\n${JSON.stringify(error.issues)}`
    for (const secret of secrets) expect(text).not.toContain(secret)
  }

  it('never quotes an api_key, literal or from the environment', () => {
    const error = configError(() =>
      parseRouterConfig(
        {
          model_list: [
            { model_name: 'a', litellm_params: { api_key: cohereKey, rpm: 'many', format: cohereKey } },
            {
              model_name: 'b',
              litellm_params: { api_key: 'os.environ/JINA_API_KEY', api_base: 'https://user:hunter2@x y' },
            },
          ],
          router_settings: { redis_url: 'os.environ/REDIS_URL', routing_strategy: jinaKey },
        },
        env,
      ),
    )
    expect(error.issues.length).toBeGreaterThan(1)
    expectNoSecret(error)
  })

  it('never quotes a secret after environment resolution', () => {
    const error = configError(() =>
      parseRouterConfig(
        {
          ...oneDeployment({ api_key: 'os.environ/COHERE_API_KEY', api_base: 'https://user:hunter2@' }),
          router_settings: { redis_url: 'os.environ/JINA_API_KEY' },
        },
        env,
      ),
    )
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'model_list[0].litellm_params.api_base',
      'router_settings.redis_url',
    ])
    expectNoSecret(error)
  })

  it('never quotes the YAML line holding a key', async () => {
    const file = await writeConfig(
      `model_list:\n  - model_name: a\n    litellm_params:\n      api_key: "${cohereKey}\\q"\n`,
    )
    const error = await loadError(file)
    expect(error.message).toMatch(/line 4/)
    expectNoSecret(error)
    const alias = await loadError(await writeConfig(`model_list: *${jinaKey}\n`))
    expectNoSecret(alias)
  })
})
