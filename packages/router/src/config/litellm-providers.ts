import type { ClientFormatName } from '@rerank-kit/client'
import type { EnvSource } from './env-references'

/**
 * What LiteLLM does with a rerank model's provider prefix: the wire format the provider speaks, the URL it
 * calls when `api_base` is unset, the route appended to an `api_base`, and the environment variables it reads
 * when the config leaves `api_key` / `api_base` out. Every provider here authenticates with `Bearer <key>`,
 * which is what RerankClient sends.
 */
export interface LitellmProvider {
  format: ClientFormatName
  /** The vendor's URL (LiteLLM's default `api_base`); undefined when the config must give one. */
  defaultApiBase?: string
  /** The route LiteLLM appends to `api_base`. */
  path: string
  /**
   * `api_base` values ending with one of these are already full URLs in LiteLLM (it does not append the route
   * again): the suffix is cut off and the value is the route called, given as `path` here. hosted_vllm turns
   * `/v1/rerank` into `/rerank`, as LiteLLM does "for backward compatibility".
   */
  fullUrlSuffixes: Readonly<Record<string, string>>
  apiKeyEnv?: readonly string[]
  apiBaseEnv?: readonly string[]
}

const vendor = (
  format: ClientFormatName,
  defaultApiBase: string,
  apiKeyEnv: string[],
  apiBaseEnv: string[] = [],
): LitellmProvider => ({
  format,
  defaultApiBase,
  path: '/v1/rerank',
  fullUrlSuffixes: { '/v1/rerank': '/v1/rerank' },
  apiKeyEnv,
  apiBaseEnv,
})

export const litellmProviders: ReadonlyMap<string, LitellmProvider> = new Map([
  [
    'cohere',
    {
      ...vendor('cohere', 'https://api.cohere.com', ['COHERE_API_KEY', 'CO_API_KEY'], ['COHERE_API_BASE']),
      fullUrlSuffixes: { '/v1/rerank': '/v1/rerank', '/v2/rerank': '/v2/rerank' },
    },
  ],
  [
    'together_ai',
    vendor('cohere', 'https://api.together.xyz', [
      'TOGETHERAI_API_KEY',
      'TOGETHER_AI_API_KEY',
      'TOGETHER_AI_TOKEN',
    ]),
  ],
  ['jina_ai', vendor('jina', 'https://api.jina.ai', ['JINA_AI_API_KEY', 'JINA_AI_TOKEN'])],
  [
    'voyage',
    {
      ...vendor('voyage', 'https://api.voyageai.com', [
        'VOYAGE_API_KEY',
        'VOYAGE_AI_API_KEY',
        'VOYAGE_AI_TOKEN',
      ]),
      fullUrlSuffixes: { '/v1/rerank': '/v1/rerank', '/v1': '/v1/rerank' },
    },
  ],
  [
    'azure_ai',
    {
      format: 'cohere',
      path: '/v1/rerank',
      fullUrlSuffixes: { '/v1/rerank': '/v1/rerank' },
      apiKeyEnv: ['AZURE_AI_API_KEY'],
      apiBaseEnv: ['AZURE_AI_API_BASE'],
    },
  ],
  [
    'hosted_vllm',
    {
      format: 'jina',
      path: '/rerank',
      fullUrlSuffixes: { '/v1/rerank': '/rerank', '/rerank': '/rerank' },
      apiKeyEnv: ['HOSTED_VLLM_API_KEY'],
      apiBaseEnv: ['HOSTED_VLLM_API_BASE'],
    },
  ],
  [
    'infinity',
    {
      format: 'infinity',
      path: '/rerank',
      fullUrlSuffixes: { '/rerank': '/rerank' },
      apiKeyEnv: ['INFINITY_API_KEY'],
      apiBaseEnv: ['INFINITY_API_BASE'],
    },
  ],
  [
    'huggingface',
    {
      format: 'tei',
      path: '/rerank',
      fullUrlSuffixes: { '/rerank': '/rerank' },
      apiKeyEnv: ['HUGGINGFACE_API_KEY', 'HF_TOKEN'],
      apiBaseEnv: ['HUGGINGFACE_API_BASE', 'HF_API_BASE'],
    },
  ],
  [
    'mixedbread',
    {
      ...vendor('mixedbread', 'https://api.mixedbread.com', ['MXBAI_API_KEY', 'MIXEDBREAD_API_KEY']),
      path: '/v1/reranking',
      fullUrlSuffixes: { '/v1/reranking': '/v1/reranking' },
    },
  ],
])

/**
 * Where a provider-prefixed deployment sends its calls: `api_base` (else the provider's variable, else its
 * vendor URL) with LiteLLM's route, or the route the `api_base` already ends with. Undefined when neither the
 * config, the environment nor the provider gives a base (infinity, hosted_vllm, huggingface, azure_ai).
 */
export function providerTarget(
  provider: LitellmProvider,
  apiBase: string | undefined,
  env: EnvSource,
): { apiBase: string; path: string } | undefined {
  const base = apiBase ?? firstSet(provider.apiBaseEnv, env) ?? provider.defaultApiBase
  if (base === undefined) return undefined
  const trimmed = base.replace(/\/+$/, '')
  for (const [suffix, path] of Object.entries(provider.fullUrlSuffixes)) {
    if (trimmed.endsWith(suffix)) return { apiBase: trimmed.slice(0, -suffix.length), path }
  }
  return { apiBase: trimmed, path: provider.path }
}

/** The provider's key from the environment, as LiteLLM reads it when the config gives none. */
export function providerApiKey(provider: LitellmProvider, env: EnvSource): string | undefined {
  return firstSet(provider.apiKeyEnv, env)
}

function firstSet(names: readonly string[] | undefined, env: EnvSource): string | undefined {
  for (const name of names ?? []) {
    const value = env[name]
    if (value !== undefined && value !== '') return value
  }
  return undefined
}
