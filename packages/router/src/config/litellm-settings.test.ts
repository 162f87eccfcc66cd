import { describe, expect, it } from 'vitest'
import { parseRouterConfig } from './load-router-config'
import { RouterConfigError } from './router-config-error'

const modelList = [
  { model_name: 'primary', litellm_params: { model: 'cohere/rerank-v3.5' } },
  { model_name: 'backup', litellm_params: { model: 'jina_ai/jina-reranker-v2-base-multilingual' } },
  { model_name: 'long', litellm_params: { model: 'voyage/rerank-2' } },
]
const parse = (extra: Record<string, unknown>, options: { strict?: boolean } = {}) =>
  parseRouterConfig({ model_list: modelList, ...extra }, {}, options)

function issuesOf(run: () => unknown) {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(RouterConfigError)
    return (error as RouterConfigError).issues
  }
  throw new Error('expected a RouterConfigError')
}

describe('litellm_settings', () => {
  it('fills what router_settings leaves unset, in seconds as LiteLLM writes them', () => {
    const { settings } = parse({
      litellm_settings: {
        num_retries: 4,
        request_timeout: 12.5,
        allowed_fails: 7,
        cooldown_time: 30,
        fallbacks: [{ primary: ['backup'] }],
        default_fallbacks: ['backup'],
        context_window_fallbacks: [{ primary: ['long'] }],
      },
    })
    expect(settings).toMatchObject({
      numRetries: 4,
      timeoutMs: 12_500,
      allowedFails: 7,
      cooldownTimeMs: 30_000,
      fallbacks: { primary: ['backup'] },
      defaultFallbacks: ['backup'],
      contextWindowFallbacks: { primary: ['long'] },
    })
  })

  it('router_settings wins key by key, a fallback list as a whole', () => {
    const { settings } = parse({
      router_settings: { num_retries: 1, timeout: 3, fallbacks: [{ backup: ['primary'] }] },
      litellm_settings: {
        num_retries: 4,
        request_timeout: 12,
        allowed_fails: 7,
        fallbacks: [{ primary: ['backup'] }],
      },
    })
    expect(settings).toMatchObject({
      numRetries: 1,
      timeoutMs: 3_000,
      allowedFails: 7,
      fallbacks: { backup: ['primary'] },
    })
  })

  it('an explicit 0 in router_settings is kept (LiteLLM would read it as unset)', () => {
    const { settings } = parse({
      router_settings: { num_retries: 0 },
      litellm_settings: { num_retries: 4 },
    })
    expect(settings.numRetries).toBe(0)
  })

  it('names a bad group at the section where it is written', () => {
    expect(
      issuesOf(() =>
        parse({
          router_settings: { default_fallbacks: ['nope'] },
          litellm_settings: { context_window_fallbacks: [{ primary: ['missing'] }] },
        }),
      ),
    ).toEqual([
      {
        path: 'router_settings.default_fallbacks[0]',
        message: 'unknown model_name "nope": expected one of primary, backup, long',
      },
      {
        path: 'litellm_settings.context_window_fallbacks[0].primary[0]',
        message: 'unknown model_name "missing": expected one of primary, backup, long',
      },
    ])
  })
})

describe('keys rerank-kit does not read', () => {
  const unread = {
    general_settings: { master_key: 'os.environ/LITELLM_MASTER_KEY' },
    litellm_settings: { drop_params: true, success_callback: ['langfuse'], num_retries: 2 },
    router_settings: { enable_pre_call_checks: true, num_retries: 1 },
  }

  it('are listed by path, each once, and parsing goes on', () => {
    const config = parse(unread)
    expect(config.unsupportedKeys).toEqual([
      'general_settings',
      'litellm_settings.drop_params',
      'litellm_settings.success_callback',
      'router_settings.enable_pre_call_checks',
    ])
    expect(config.settings.numRetries).toBe(1)
  })

  it('are refused in strict mode, from the option or from the file', () => {
    const refused = [
      'general_settings',
      'litellm_settings.drop_params',
      'litellm_settings.success_callback',
      'router_settings.enable_pre_call_checks',
    ].map((path) => ({ path, message: 'not supported by rerank-kit (strict mode refuses it)' }))
    expect(issuesOf(() => parse(unread, { strict: true }))).toEqual(refused)
    expect(issuesOf(() => parse({ ...unread, strict: true }))).toEqual(refused)
    // Nothing unread: strict mode has nothing to refuse.
    expect(parse({ strict: true }).unsupportedKeys).toEqual([])
  })
})

describe('retry_policy, allowed_fails_policy, model_group_alias', () => {
  it("maps LiteLLM's error class names to ours; an unknown class is listed as unread", () => {
    const config = parse({
      router_settings: {
        retry_policy: { RateLimitErrorRetries: 3, AuthenticationErrorRetries: 0, NotAnErrorRetries: 9 },
        allowed_fails_policy: { TimeoutErrorAllowedFails: 10, ContentPolicyViolationErrorAllowedFails: 1 },
      },
    })
    expect(config.settings.retryPolicy).toEqual({ rateLimit: 3, authentication: 0 })
    expect(config.settings.allowedFailsPolicy).toEqual({ timeout: 10, contentPolicy: 1 })
    expect(config.unsupportedKeys).toEqual(['router_settings.retry_policy.NotAnErrorRetries'])
  })

  it('refuses an alias that is already a group, or that names no group', () => {
    expect(
      issuesOf(() =>
        parse({
          router_settings: {
            model_group_alias: { backup: 'primary', old: 'gone', older: { model: 'gone', hidden: true } },
          },
        }),
      ),
    ).toEqual([
      {
        path: 'router_settings.model_group_alias.backup',
        message: 'is already a model_name: an alias must be a new name',
      },
      {
        path: 'router_settings.model_group_alias.old',
        message: 'unknown model_name "gone": expected one of primary, backup, long',
      },
      {
        path: 'router_settings.model_group_alias.older.model',
        message: 'unknown model_name "gone": expected one of primary, backup, long',
      },
    ])
  })

  it('reads tags and input_cost_per_query from either place; two different costs are refused', () => {
    const config = parseRouterConfig(
      {
        model_list: [
          {
            model_name: 'a',
            litellm_params: { model: 'cohere/m', tags: ['free'], input_cost_per_query: 0.001 },
          },
          {
            model_name: 'a',
            litellm_params: { model: 'jina_ai/m' },
            model_info: { input_cost_per_query: 0.002 },
          },
        ],
        router_settings: { enable_tag_filtering: true, routing_strategy: 'cost-based-routing' },
      },
      {},
    )
    expect(config.deployments.map((d) => [d.tags, d.inputCostPerQuery])).toEqual([
      [['free'], 0.001],
      [undefined, 0.002],
    ])
    expect(config.settings).toMatchObject({ enableTagFiltering: true, routingStrategy: 'cost-based-routing' })
    expect(
      issuesOf(() =>
        parseRouterConfig(
          {
            model_list: [
              {
                model_name: 'a',
                litellm_params: { model: 'cohere/m', input_cost_per_query: 0.001 },
                model_info: { input_cost_per_query: 0.003 },
              },
            ],
          },
          {},
        ),
      ),
    ).toEqual([
      {
        path: 'model_list[0].model_info.input_cost_per_query',
        message:
          'conflicts with model_list[0].litellm_params.input_cost_per_query: set one of them, or both alike',
      },
    ])
  })
})
