import type { StrategyName } from '../deployment-snapshot'
import { agreedValue, secondsToMs, withoutUndefined } from './config-values'
import { type RouterSettings, routerConfigDefaults } from './router-config'
import type { ConfigIssues } from './router-config-error'
import { type ParsedRouterSettings, strategyAliases } from './router-config-schema'

type Path = readonly PropertyKey[]
const settingsPath = ['router_settings'] as const

/** router_settings with LiteLLM's aliases resolved, defaults applied and seconds turned into milliseconds. */
export function normaliseSettings(
  raw: ParsedRouterSettings | null | undefined,
  groups: ReadonlySet<string>,
  issues: ConfigIssues,
): RouterSettings {
  const settings: ParsedRouterSettings = raw ?? {}
  const at = (...keys: PropertyKey[]) => [...settingsPath, ...keys]
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
    numRetries: settings.num_retries ?? routerConfigDefaults.numRetries,
    // Unset means our backoff base; an explicit 0 is honoured (retry at once), as LiteLLM honours it.
    retryDelayMs: retryDelay === undefined ? routerConfigDefaults.retryDelayMs : secondsToMs(retryDelay),
    cooldownTimeMs:
      settings.cooldown_time == null
        ? routerConfigDefaults.cooldownTimeMs
        : secondsToMs(settings.cooldown_time),
    maxCooldownTimeMs:
      settings.max_cooldown_time == null
        ? routerConfigDefaults.maxCooldownTimeMs
        : secondsToMs(settings.max_cooldown_time),
    allowedFails: settings.allowed_fails ?? routerConfigDefaults.allowedFails,
    fallbacks: normaliseFallbacks(settings.fallbacks ?? [], groups, issues),
    fallbackToLocal: settings.fallback_to_local ?? false,
    healthCheckIntervalMs: optionalMs(settings.health_check_interval),
    healthCheckPath: checkHealthCheckPath(settings.health_check_path, at('health_check_path'), issues),
    redisUrl: checkRedisUrl(settings.redis_url, at('redis_url'), issues),
    redisNamespace: settings.redis_namespace ?? undefined,
    maxResponseBytes: settings.max_response_bytes ?? undefined,
    latencyBuffer: latencyBuffer ?? routerConfigDefaults.latencyBuffer,
    timeoutMs: optionalMs(settings.timeout),
  })
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
  groups: ReadonlySet<string>,
  issues: ConfigIssues,
): Record<string, string[]> {
  const merged: [string, string[]][] = []
  const seen = new Set<string>()
  list.forEach((map, index) => {
    for (const [group, targets] of Object.entries(map)) {
      const path = [...settingsPath, 'fallbacks', index, group]
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
