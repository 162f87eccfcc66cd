import type { ClientFormatName } from '@rerank-kit/client'
import type { StrategyName } from '../deployment-snapshot'
import type { FailureClass } from '../failure-classes'

/** One deployment after validation: times in ms, LiteLLM's provider prefix resolved into a format. */
export interface DeploymentConfig {
  /** `${modelName}#${index within that group}`: stable across restarts, never contains a secret. */
  id: string
  /**
   * The key of its shared state in Redis: `model_info.id` when set, else `${modelName}:` and a hash of
   * format, api_base, path and model, so another config's `rerank#0` (another backend) never shares it.
   */
  stateKey: string
  /** The group (LiteLLM's `model_name`) requests are routed by. */
  modelName: string
  /** The in-process model (`model: local` or `format: local`): no api_base, no format. */
  local: boolean
  /** The wire format of the remote server; undefined when local. */
  format?: ClientFormatName
  apiBase?: string
  apiKey?: string
  /** The model name sent upstream, provider prefix stripped; for a local deployment, the model to load if given. */
  model?: string
  /** Overrides the format's default path. */
  path?: string
  /** Default 1. */
  weight: number
  /** From `priority` or LiteLLM's `order`; lower is tried first; default 0. */
  priority: number
  rpm?: number
  tpm?: number
  maxParallelRequests?: number
  timeoutMs?: number
  /** Tag routing: requests naming one of these tags may be sent here (with enableTagFiltering). */
  tags?: string[]
  /** LiteLLM's `input_cost_per_query`, for cost-based-routing. */
  inputCostPerQuery?: number
}

/** LiteLLM's error classes of RetryPolicy and AllowedFailsPolicy, in our names. */
export type ErrorClassName = FailureClass

export interface RouterSettings {
  /** Default 'simple-shuffle' (LiteLLM's default); `usage-based-routing-v2` arrives as 'usage-based-routing'. */
  routingStrategy: StrategyName
  /** Retries inside a group after the first attempt (default 2). */
  numRetries: number
  /** Base of the exponential retry backoff (default 250 ms; an explicit 0 retries at once). */
  retryDelayMs: number
  /** How long a failing deployment is skipped (default 5,000 ms, LiteLLM's). */
  cooldownTimeMs: number
  /** The longest cooldown a backend's Retry-After may set (default 300,000 ms). */
  maxCooldownTimeMs: number
  /** Failures tolerated within a minute (default 3): the next one cools the deployment down, as in LiteLLM. */
  allowedFails: number
  /** Group -> groups tried in order once the group's retries are exhausted; every name is a configured group. */
  fallbacks: Record<string, string[]>
  /** Groups tried, in order, for a group without fallbacks of its own (LiteLLM's `default_fallbacks`). */
  defaultFallbacks: string[]
  /** Group -> groups tried when a deployment refuses the request as too long (LiteLLM's context window errors). */
  contextWindowFallbacks: Record<string, string[]>
  /**
   * Try the in-process model when every remote deployment failed. Valid without a local deployment in the
   * config: the code building the router may supply one; the router decides what to do when none exists.
   */
  fallbackToLocal: boolean
  healthCheckIntervalMs?: number
  /** Path probed by health checks (ours); the router's default when undefined. */
  healthCheckPath?: string
  /** Shared cooldowns and rpm/tpm counters across instances. */
  redisUrl?: string
  /** Prefix of the Redis keys, before `:` (default `rerank-kit:router`). */
  redisNamespace?: string
  /** The most bytes a backend's answer may have; the client's default (relative to the request) when unset. */
  maxResponseBytes?: number
  /** LiteLLM's `lowest_latency_buffer` for latency-based-routing (default 0: always the fastest). */
  latencyBuffer: number
  /** Default per-attempt timeout for deployments that set none. */
  timeoutMs?: number
  /** Retries by error class (LiteLLM's retry_policy), overriding numRetries for errors of that class. */
  retryPolicy?: Partial<Record<ErrorClassName, number>>
  /** Failures in a minute before a cooldown by error class (LiteLLM's allowed_fails_policy). */
  allowedFailsPolicy?: Partial<Record<ErrorClassName, number>>
  /** Names a request may use for a group (LiteLLM's model_group_alias); hidden ones are not listed. */
  groupAliases?: Record<string, { group: string; hidden: boolean }>
  /** Route by the request's tags to deployments with those tags (LiteLLM's enable_tag_filtering). */
  enableTagFiltering: boolean
  /**
   * Trust for https backends (litellm_settings.ssl_verify, else SSL_VERIFY, else SSL_CERT_FILE): a PEM file
   * of CAs trusted besides Node's default ones, or `verify: false` (unsafe: any certificate is accepted).
   */
  tls?: { caFile?: string; verify?: false }
}

export interface RouterConfig {
  deployments: DeploymentConfig[]
  settings: RouterSettings
  /**
   * Keys of the file that rerank-kit does not read (`general_settings`, `router_settings.model_group_alias`),
   * as config paths: logged in one warning at start, refused with `strict: true`.
   */
  unsupportedKeys: string[]
}

export const routerConfigDefaults = {
  routingStrategy: 'simple-shuffle',
  numRetries: 2,
  retryDelayMs: 250,
  cooldownTimeMs: 5_000,
  maxCooldownTimeMs: 300_000,
  allowedFails: 3,
  latencyBuffer: 0,
  weight: 1,
  priority: 0,
} as const satisfies Partial<RouterSettings & DeploymentConfig>
