import type { StrategyName } from '../deployment-snapshot'
import { agreedValue, secondsToMs, withoutUndefined } from './config-values'
import type { EnvSource } from './env-references'
import { type ErrorClassName, type RouterSettings, routerConfigDefaults } from './router-config'
import type { ConfigIssues } from './router-config-error'
import {
  litellmErrorClasses,
  type ParsedLitellmSettings,
  type ParsedRouterSettings,
  strategyAliases,
} from './router-config-schema'

type Path = readonly PropertyKey[]
const settingsPath = ['router_settings'] as const
const litellmPath = ['litellm_settings'] as const

/**
 * router_settings, with litellm_settings filling what it leaves unset (LiteLLM's order: the Router's own
 * argument, else the process-wide `litellm.<key>`), LiteLLM's aliases resolved, defaults applied and seconds
 * turned into milliseconds.
 */
export function normaliseSettings(
  raw: ParsedRouterSettings | null | undefined,
  litellm: ParsedLitellmSettings | null | undefined,
  groups: ReadonlySet<string>,
  env: EnvSource,
  issues: ConfigIssues,
): RouterSettings {
  const settings: ParsedRouterSettings = raw ?? {}
  const global: ParsedLitellmSettings = litellm ?? {}
  const at = (...keys: PropertyKey[]) => [...settingsPath, ...keys]
  // A list set in router_settings wins whole; else litellm_settings' list, checked at its own path.
  const fallbacksOf = (key: 'fallbacks' | 'context_window_fallbacks') =>
    settings[key] != null
      ? normaliseFallbacks(settings[key], settingsPath, key, groups, issues)
      : normaliseFallbacks(global[key] ?? [], litellmPath, key, groups, issues)
  const defaultFallbacks =
    settings.default_fallbacks != null
      ? checkGroups(settings.default_fallbacks, at('default_fallbacks'), groups, issues)
      : checkGroups(global.default_fallbacks ?? [], [...litellmPath, 'default_fallbacks'], groups, issues)
  const cooldownTime = settings.cooldown_time ?? global.cooldown_time
  const timeout = settings.timeout ?? global.request_timeout
  const retryDelay = agreedValue(
    [
      { path: at('retry_delay'), value: settings.retry_delay },
      { path: at('retry_after'), value: settings.retry_after },
    ],
    issues,
  )
  const latencyBuffer = agreedValue(
    [
      { path: at('lowest_latency_buffer'), value: settings.lowest_latency_buffer },
      {
        path: at('routing_strategy_args', 'lowest_latency_buffer'),
        value: settings.routing_strategy_args?.lowest_latency_buffer,
      },
    ],
    issues,
  )
  return withoutUndefined({
    routingStrategy: strategyName(settings.routing_strategy),
    numRetries: settings.num_retries ?? global.num_retries ?? routerConfigDefaults.numRetries,
    // Unset means our backoff base; an explicit 0 is honoured (retry at once), as LiteLLM honours it.
    retryDelayMs: retryDelay === undefined ? routerConfigDefaults.retryDelayMs : secondsToMs(retryDelay),
    cooldownTimeMs: cooldownTime == null ? routerConfigDefaults.cooldownTimeMs : secondsToMs(cooldownTime),
    maxCooldownTimeMs:
      settings.max_cooldown_time == null
        ? routerConfigDefaults.maxCooldownTimeMs
        : secondsToMs(settings.max_cooldown_time),
    allowedFails: settings.allowed_fails ?? global.allowed_fails ?? routerConfigDefaults.allowedFails,
    fallbacks: fallbacksOf('fallbacks'),
    defaultFallbacks,
    contextWindowFallbacks: fallbacksOf('context_window_fallbacks'),
    fallbackToLocal: settings.fallback_to_local ?? false,
    healthCheckIntervalMs: optionalMs(settings.health_check_interval),
    healthCheckPath: checkHealthCheckPath(settings.health_check_path, at('health_check_path'), issues),
    redisUrl: checkRedisUrl(settings.redis_url, at('redis_url'), issues),
    redisNamespace: settings.redis_namespace ?? undefined,
    maxResponseBytes: settings.max_response_bytes ?? undefined,
    latencyBuffer: latencyBuffer ?? routerConfigDefaults.latencyBuffer,
    timeoutMs: optionalMs(timeout),
    retryPolicy: perErrorClass(settings.retry_policy, 'Retries'),
    allowedFailsPolicy: perErrorClass(settings.allowed_fails_policy, 'AllowedFails'),
    groupAliases: groupAliases(settings.model_group_alias, at('model_group_alias'), groups, issues),
    enableTagFiltering: settings.enable_tag_filtering ?? false,
    tls: tlsOf(global.ssl_verify, env),
  })
}

/** LiteLLM's order: `ssl_verify` in the config, else SSL_VERIFY; SSL_CERT_FILE names a CA bundle too. */
function tlsOf(sslVerify: boolean | string | null | undefined, env: EnvSource): RouterSettings['tls'] {
  const fromEnv = env.SSL_VERIFY?.trim()
  const value =
    sslVerify ??
    (fromEnv === undefined || fromEnv === '' ? undefined : /^(false|0)$/i.test(fromEnv) ? false : fromEnv)
  if (value === false) return { verify: false }
  if (typeof value === 'string' && !/^(true|1)$/i.test(value)) return { caFile: value }
  const certFile = env.SSL_CERT_FILE
  return certFile ? { caFile: certFile } : undefined
}

/** `{ RateLimitErrorRetries: 3 }` -> `{ rateLimit: 3 }`; undefined when nothing is set. */
function perErrorClass(
  policy: Readonly<Record<string, number | null | undefined>> | null | undefined,
  suffix: 'Retries' | 'AllowedFails',
): Partial<Record<ErrorClassName, number>> | undefined {
  if (policy == null) return undefined
  const entries = Object.entries(litellmErrorClasses).flatMap(([name, ours]) => {
    const value = policy[`${name}${suffix}`]
    return value == null ? [] : [[ours, value] as const]
  })
  return entries.length === 0 ? undefined : Object.fromEntries(entries)
}

/** Each alias names a configured group and is not one itself: a request for it would be ambiguous. */
function groupAliases(
  raw: ParsedRouterSettings['model_group_alias'],
  path: Path,
  groups: ReadonlySet<string>,
  issues: ConfigIssues,
): RouterSettings['groupAliases'] {
  if (raw == null) return undefined
  const aliases = Object.entries(raw).map(([alias, target]) => {
    const group = typeof target === 'string' ? target : target.model
    const hidden = typeof target === 'string' ? false : (target.hidden ?? false)
    if (groups.has(alias))
      issues.add([...path, alias], 'is already a model_name: an alias must be a new name')
    checkGroup(
      group,
      typeof target === 'string' ? [...path, alias] : [...path, alias, 'model'],
      groups,
      issues,
    )
    return [alias, { group, hidden }] as const
  })
  return Object.fromEntries(aliases)
}

function strategyName(name: string | null | undefined): StrategyName {
  if (name == null) return routerConfigDefaults.routingStrategy
  // The schema only lets our names and the aliases through.
  return Object.hasOwn(strategyAliases, name) ? strategyAliases[name]! : (name as StrategyName)
}

function optionalMs(seconds: number | null | undefined): number | undefined {
  return seconds == null ? undefined : secondsToMs(seconds)
}

/**
 * LiteLLM's list of single-key maps becomes one map. Every group named, on either side, must exist in
 * model_list: a typo would otherwise surface only when the primary group fails, in production.
 */
function normaliseFallbacks(
  list: readonly Record<string, string[]>[],
  section: Path,
  key: string,
  groups: ReadonlySet<string>,
  issues: ConfigIssues,
): Record<string, string[]> {
  const merged: [string, string[]][] = []
  const seen = new Set<string>()
  list.forEach((map, index) => {
    for (const [group, targets] of Object.entries(map)) {
      const path = [...section, key, index, group]
      checkGroup(group, path, groups, issues)
      if (seen.has(group)) issues.add(path, 'fallbacks for this group are already listed in an earlier entry')
      seen.add(group)
      targets.forEach((target, position) => {
        if (target === group) issues.add([...path, position], 'a group cannot fall back to itself')
        else checkGroup(target, [...path, position], groups, issues)
      })
      merged.push([group, targets])
    }
  })
  // fromEntries keeps any group name (even `__proto__`) as a plain own key.
  return Object.fromEntries(merged)
}

function checkGroups(list: readonly string[], path: Path, groups: ReadonlySet<string>, issues: ConfigIssues) {
  list.forEach((group, index) => {
    checkGroup(group, [...path, index], groups, issues)
  })
  return [...list]
}

function checkGroup(group: string, path: Path, groups: ReadonlySet<string>, issues: ConfigIssues) {
  if (!groups.has(group)) {
    issues.add(path, `unknown model_name ${JSON.stringify(group)}: expected one of ${[...groups].join(', ')}`)
  }
}

function checkHealthCheckPath(value: string | null | undefined, path: Path, issues: ConfigIssues) {
  if (value == null) return undefined
  if (!value.startsWith('/')) issues.add(path, 'expected a path starting with /')
  return value
}

function checkRedisUrl(value: string | null | undefined, path: Path, issues: ConfigIssues) {
  if (value == null) return undefined
  // The URL usually carries the Redis password: it is never quoted.
  if (!/^rediss?:\/\//.test(value) || !URL.canParse(value)) {
    issues.add(path, 'expected a redis:// or rediss:// URL')
  }
  return value
}
