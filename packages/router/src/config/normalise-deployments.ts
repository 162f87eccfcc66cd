import { createHash } from 'node:crypto'
import type { ClientFormatName } from '@rerank-kit/client'
import { rerankFormats } from '@rerank-kit/protocol'
import { agreedValue, isHttpUrl, secondsToMs, withoutUndefined } from './config-values'
import type { EnvSource } from './env-references'
import { type LitellmProvider, litellmProviders, providerApiKey, providerTarget } from './litellm-providers'
import type { DeploymentConfig } from './router-config'
import { routerConfigDefaults } from './router-config'
import type { ConfigIssues } from './router-config-error'
import { localFormat, type ParsedModelEntry } from './router-config-schema'

type Path = readonly PropertyKey[]
type LitellmParams = ParsedModelEntry['litellm_params']

/**
 * `cohere/rerank-english-v3.0` -> provider cohere, model `rerank-english-v3.0`. Only LiteLLM's provider names
 * count as prefixes, so Hugging Face ids (`BAAI/bge-reranker-base`, `jinaai/...`) are left whole.
 */
export function splitProviderPrefix(model: string): {
  format?: ClientFormatName
  provider?: LitellmProvider
  model: string
} {
  const slash = model.indexOf('/')
  const provider = slash > 0 ? litellmProviders.get(model.slice(0, slash)) : undefined
  return provider === undefined
    ? { model }
    : { format: provider.format, provider, model: model.slice(slash + 1) }
}

/** `local/<name>`: the in-process reranker's model `<name>` (a hub id or a folder), not whatever it loaded. */
const localPrefix = `${localFormat}/`

/** Deployments in model_list order; ids count within each group (`rerank#0`, `rerank#1`). */
export function normaliseDeployments(
  entries: readonly ParsedModelEntry[],
  env: EnvSource,
  issues: ConfigIssues,
) {
  const groupSizes = new Map<string, number>()
  const deployments = entries.map((entry, index): DeploymentConfig => {
    const groupIndex = groupSizes.get(entry.model_name) ?? 0
    groupSizes.set(entry.model_name, groupIndex + 1)
    const id = `${entry.model_name}#${groupIndex}`
    return normaliseDeployment(entry, ['model_list', index], id, env, issues)
  })
  assignStateKeys(deployments, entries, issues)
  return deployments
}

function normaliseDeployment(
  entry: ParsedModelEntry,
  path: Path,
  id: string,
  env: EnvSource,
  issues: ConfigIssues,
): DeploymentConfig {
  const params = entry.litellm_params
  const paramsPath = [...path, 'litellm_params']
  const local =
    params.model === localFormat ||
    params.format === localFormat ||
    (params.model?.startsWith(localPrefix) ?? false)
  const target = local
    ? localTarget(params, paramsPath, issues)
    : remoteTarget(params, paramsPath, env, issues)
  return withoutUndefined({
    id,
    stateKey: '',
    modelName: entry.model_name,
    local,
    ...target,
    ...deploymentLimits(entry, path, issues),
    tags: params.tags ?? undefined,
    inputCostPerQuery: agreedValue(
      [
        { path: [...paramsPath, 'input_cost_per_query'], value: params.input_cost_per_query },
        {
          path: [...path, 'model_info', 'input_cost_per_query'],
          value: entry.model_info?.input_cost_per_query,
        },
      ],
      issues,
    ),
  })
}

function localTarget(params: LitellmParams, path: Path, issues: ConfigIssues) {
  // An api_base next to `local` means the author is unsure which one they get: refuse rather than guess.
  if (params.api_base != null) {
    issues.add([...path, 'api_base'], `not allowed on a local deployment (model or format "${localFormat}")`)
  }
  // `model: local/<name>` and `format: local` with a model name the model; `model: local` names none.
  const model = params.model?.startsWith(localPrefix)
    ? params.model.slice(localPrefix.length)
    : params.model === localFormat
      ? undefined
      : (params.model ?? undefined)
  if (model === '') issues.add([...path, 'model'], `expected a model name after "${localPrefix}"`)
  return { model: model || undefined }
}

function remoteTarget(params: LitellmParams, path: Path, env: EnvSource, issues: ConfigIssues) {
  const split = params.model == null ? undefined : splitProviderPrefix(params.model)
  if (split?.model === '') issues.add([...path, 'model'], 'expected a model name after the provider prefix')
  const explicitFormat = params.format === localFormat ? undefined : params.format
  const format = explicitFormat ?? split?.format ?? 'native'
  const apiBase = params.api_base || undefined
  const explicitPath = checkServerPath(params.path, [...path, 'path'], issues)
  const provider = split?.provider
  // A provider prefix brings LiteLLM's URL rules (vendor default, route, api_base given as a full URL) and its
  // key variables, unless `format` says the server speaks another format: then api_base is taken as is.
  const target = provider && explicitFormat === undefined ? providerTarget(provider, apiBase, env) : undefined
  const base = checkApiBase(target?.apiBase ?? apiBase, provider, [...path, 'api_base'], issues)
  const routePath =
    explicitPath ?? (target && target.path !== defaultPathOf(format) ? target.path : undefined)
  return {
    format,
    apiBase: base,
    apiKey: params.api_key ?? (provider ? providerApiKey(provider, env) : undefined),
    model: split?.model || undefined,
    path: routePath,
  }
}

function defaultPathOf(format: ClientFormatName): string | undefined {
  return format === 'infinity-classify' ? undefined : rerankFormats[format].defaultPath
}

function checkApiBase(
  apiBase: string | undefined,
  provider: LitellmProvider | undefined,
  path: Path,
  issues: ConfigIssues,
) {
  if (apiBase === undefined) {
    const variables = provider?.apiBaseEnv?.length ? ` (or set ${provider.apiBaseEnv.join(' or ')})` : ''
    issues.add(
      path,
      `is required for a remote deployment${variables} (model "${localFormat}" means the in-process model)`,
    )
    return undefined
  }
  // The URL itself stays out of the message: it may carry credentials (`https://user:pass@host`).
  if (!isHttpUrl(apiBase)) issues.add(path, 'expected an http(s) URL')
  return apiBase
}

function checkServerPath(serverPath: string | null | undefined, path: Path, issues: ConfigIssues) {
  if (serverPath == null) return undefined
  if (!serverPath.startsWith('/')) issues.add(path, 'expected a path starting with /')
  return serverPath
}

/**
 * The limits, read from the entry or from litellm_params (LiteLLM's place). Setting one in both places with
 * different values is an error rather than a silent precedence rule: one of them is a leftover edit.
 */
function deploymentLimits(entry: ParsedModelEntry, path: Path, issues: ConfigIssues) {
  const params = entry.litellm_params
  const paramsPath = [...path, 'litellm_params']
  const pick = <
    K extends 'weight' | 'priority' | 'order' | 'rpm' | 'tpm' | 'max_parallel_requests' | 'timeout',
  >(
    ...keys: K[]
  ) =>
    agreedValue(
      keys.flatMap((key) => [
        { path: [...path, key], value: entry[key] },
        { path: [...paramsPath, key], value: params[key] },
      ]),
      issues,
    )
  const timeout = pick('timeout')
  return {
    weight: pick('weight') ?? routerConfigDefaults.weight,
    priority: pick('priority', 'order') ?? routerConfigDefaults.priority,
    rpm: pick('rpm'),
    tpm: pick('tpm'),
    maxParallelRequests: pick('max_parallel_requests'),
    timeoutMs: timeout === undefined ? undefined : secondsToMs(timeout),
  }
}

/**
 * Each deployment's key in the shared state: its `model_info.id`, else derived from what it calls, so two
 * configs on one Redis share a backend's counters only when they name the same backend. Deployments of one
 * config that call the same backend (several keys for one endpoint) are told apart by their rank among those.
 */
function assignStateKeys(
  deployments: DeploymentConfig[],
  entries: readonly ParsedModelEntry[],
  issues: ConfigIssues,
) {
  const seen = new Map<string, number>()
  deployments.forEach((deployment, index) => {
    const explicit = entries[index]?.model_info?.id ?? undefined
    let key = explicit ?? derivedStateKey(deployment)
    const repeats = seen.get(key) ?? 0
    seen.set(key, repeats + 1)
    if (repeats > 0) {
      if (explicit !== undefined) {
        issues.add(['model_list', index, 'model_info', 'id'], 'another deployment already has this id')
      } else key = `${key}~${repeats}`
    }
    deployment.stateKey = key
  })
}

function derivedStateKey(deployment: DeploymentConfig): string {
  const target = deployment.local
    ? ['local', deployment.model ?? '']
    : [deployment.format ?? '', deployment.apiBase ?? '', deployment.path ?? '', deployment.model ?? '']
  // A hash, not the URL: the key is visible to anyone reading Redis, and an api_base may carry credentials.
  const hash = createHash('sha256')
    .update(JSON.stringify([deployment.modelName, ...target]))
    .digest('hex')
    .slice(0, 16)
  return `${deployment.modelName}:${hash}`
}
