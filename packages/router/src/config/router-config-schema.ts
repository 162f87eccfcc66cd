import { clientFormatNames } from '@rerank-kit/client'
import * as z from 'zod'
import type { StrategyName } from '../deployment-snapshot'
import { strategies } from '../strategies'

// The runtime lists come from the code that implements them, so they cannot drift apart.
export const strategyNames = Object.keys(strategies) as StrategyName[]
export { clientFormatNames }

/** LiteLLM's names that mean one of ours. */
export const strategyAliases: Readonly<Record<string, StrategyName>> = {
  'usage-based-routing-v2': 'usage-based-routing',
}

/** `format: local` (like `model: local`) marks the in-process model. */
export const localFormat = 'local'

// YAML writes "not set" as an empty value (`api_key:`), which parses to null: optional keys accept it.
const count = z.int().positive().nullish()
const seconds = z.number().nonnegative().nullish()
const positiveSeconds = z.number().positive().nullish()

/**
 * Per-deployment limits. LiteLLM reads them inside `litellm_params`; the issue (and the seed's config) puts
 * them on the entry itself: both places are accepted, and a key set in both with different values is an error.
 */
const deploymentLimitsShape = {
  weight: z.number().nonnegative().nullish(),
  /** Our name for LiteLLM's `order`: lower tiers are tried first. */
  priority: z.int().nullish(),
  order: z.int().nullish(),
  rpm: count,
  tpm: count,
  max_parallel_requests: count,
  /** Seconds, as in LiteLLM. */
  timeout: positiveSeconds,
}

// z.object strips unknown keys: LiteLLM configs carry many keys we do not use (`general_settings`, provider
// credentials...), which must not make the file unusable here. unsupported-keys.ts names each of them.
export const litellmParamsSchema = z.object({
  api_base: z.string().nullish(),
  api_key: z.string().nullish(),
  /** Upstream model, possibly with a LiteLLM provider prefix (`cohere/rerank-english-v3.0`), or `local`. */
  model: z.string().min(1).nullish(),
  format: z.enum([...clientFormatNames, localFormat]).nullish(),
  /** Overrides the format's default path on the server. */
  path: z.string().nullish(),
  /** Tag routing (with router_settings.enable_tag_filtering): requests naming one of these may come here. */
  tags: z.array(z.string().min(1)).nullish(),
  /** LiteLLM's rerank price; read here or in model_info, for cost-based-routing. */
  input_cost_per_query: z.number().nonnegative().nullish(),
  ...deploymentLimitsShape,
})

export const modelEntrySchema = z.object({
  model_name: z.string().min(1),
  litellm_params: litellmParamsSchema,
  /** LiteLLM's place for the deployment's id: here, the key of its shared state (counters, cooldown). */
  model_info: z
    .object({
      id: z.string().min(1).nullish(),
      input_cost_per_query: z.number().nonnegative().nullish(),
    })
    .nullish(),
  ...deploymentLimitsShape,
})

const fallbackMapSchema = z.record(z.string(), z.array(z.string().min(1)))
/** LiteLLM's shape: a list of single-key maps, `[{ "group-a": ["group-b", "group-c"] }]`. */
const fallbackListSchema = z.array(fallbackMapSchema).nullish()
/** Groups tried for every group that has no fallbacks of its own. */
const defaultFallbacksSchema = z.array(z.string().min(1)).nullish()

/** LiteLLM's error classes, as its RetryPolicy and AllowedFailsPolicy name them. */
export const litellmErrorClasses = {
  BadRequestError: 'badRequest',
  AuthenticationError: 'authentication',
  TimeoutError: 'timeout',
  RateLimitError: 'rateLimit',
  ContentPolicyViolationError: 'contentPolicy',
  InternalServerError: 'internalServer',
} as const

const perErrorClass = (suffix: string) =>
  z.object(
    Object.fromEntries(
      Object.keys(litellmErrorClasses).map((name) => [`${name}${suffix}`, z.int().nonnegative().nullish()]),
    ),
  )

/** `{ "gpt-4": "gpt-3.5-turbo" }` or `{ "gpt-4": { model: "gpt-3.5-turbo", hidden: true } }`. */
const groupAliasSchema = z.record(
  z.string().min(1),
  z.union([z.string().min(1), z.object({ model: z.string().min(1), hidden: z.boolean().nullish() })]),
)

/**
 * The keys of LiteLLM's `litellm_settings` that shape routing. LiteLLM sets them as process-wide defaults
 * (`litellm.num_retries`, ...) that the Router uses where `router_settings` leaves a key unset.
 */
export const litellmSettingsSchema = z.object({
  num_retries: z.int().nonnegative().nullish(),
  /** Seconds; LiteLLM's `litellm.request_timeout`, the Router's timeout when router_settings has none. */
  request_timeout: positiveSeconds,
  fallbacks: fallbackListSchema,
  default_fallbacks: defaultFallbacksSchema,
  context_window_fallbacks: fallbackListSchema,
  allowed_fails: z.int().nonnegative().nullish(),
  cooldown_time: seconds,
  /** `false`: do not verify backends' certificates (unsafe); a path: a PEM bundle of CAs to trust as well. */
  ssl_verify: z.union([z.boolean(), z.string().min(1)]).nullish(),
})

export const routerSettingsSchema = z.object({
  routing_strategy: z.enum([...strategyNames, ...Object.keys(strategyAliases)]).nullish(),
  /** LiteLLM passes `lowest_latency_buffer` here; also accepted directly in router_settings. */
  routing_strategy_args: z.object({ lowest_latency_buffer: z.number().nonnegative().nullish() }).nullish(),
  num_retries: z.int().nonnegative().nullish(),
  retry_delay: seconds,
  /** LiteLLM's name for the delay before a retry. */
  retry_after: seconds,
  cooldown_time: seconds,
  /** The longest cooldown a backend's Retry-After may set (ours; default 300 s). */
  max_cooldown_time: positiveSeconds,
  allowed_fails: z.int().nonnegative().nullish(),
  fallbacks: fallbackListSchema,
  default_fallbacks: defaultFallbacksSchema,
  /** Tried instead of failing when a deployment refuses the request as too long (a 413 from the backend). */
  context_window_fallbacks: fallbackListSchema,
  fallback_to_local: z.boolean().nullish(),
  /** Retries by error class, instead of num_retries (`{ RateLimitErrorRetries: 3, ... }`). */
  retry_policy: perErrorClass('Retries').nullish(),
  /** Failures in a minute before a cooldown, by error class, instead of allowed_fails. */
  allowed_fails_policy: perErrorClass('AllowedFails').nullish(),
  model_group_alias: groupAliasSchema.nullish(),
  enable_tag_filtering: z.boolean().nullish(),
  health_check_interval: positiveSeconds,
  health_check_path: z.string().nullish(),
  redis_url: z.string().nullish(),
  /** Redis keys start with `<namespace>:` (LiteLLM's cache `namespace`); several routers' configs stay apart. */
  redis_namespace: z.string().min(1).nullish(),
  /** The most bytes a backend's answer may have (ours); default relative to the request. */
  max_response_bytes: z.int().positive().nullish(),
  lowest_latency_buffer: z.number().nonnegative().nullish(),
  timeout: positiveSeconds,
})

/** The YAML (or code) shape of a router config: LiteLLM's keys plus ours. */
export const routerConfigSchema = z.object({
  model_list: z.array(modelEntrySchema).min(1),
  router_settings: routerSettingsSchema.nullish(),
  litellm_settings: litellmSettingsSchema.nullish(),
  /** Ours: refuse to start on a key this schema does not read, instead of warning about it. */
  strict: z.boolean().nullish(),
})

export type RawRouterConfig = z.input<typeof routerConfigSchema>
export type ParsedRouterConfig = z.output<typeof routerConfigSchema>
export type ParsedModelEntry = z.output<typeof modelEntrySchema>
export type ParsedRouterSettings = z.output<typeof routerSettingsSchema>
export type ParsedLitellmSettings = z.output<typeof litellmSettingsSchema>

const typeNames: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map',
  record: 'a map',
}

/**
 * Messages in the words of a YAML author (`expected a number`, `expected a list`) instead of zod's. None of
 * them quotes the input: a misplaced API key must not end up in an error message.
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return invalidTypeMessage(issue.expected, issue.input, issue)
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}`
    case 'too_small':
      return tooSmallMessage(issue.origin, issue.minimum, issue.inclusive)
    default:
      return undefined
  }
}

function invalidTypeMessage(expected: string, input: unknown, issue: object): string {
  if (input === undefined && !('received' in issue)) return 'is required'
  // zod reports `.int()` on a string as expected 'number' but on 1.5 as expected 'int'.
  if (expected === 'int' && typeof input !== 'number') return 'expected a number'
  // Infinity and NaN (YAML `.inf`, `.nan`) arrive with `received` set instead of the input.
  if (expected === 'number' && 'received' in issue) return 'expected a finite number'
  return `expected ${typeNames[expected] ?? expected}`
}

function tooSmallMessage(origin: string, minimum: number | bigint, inclusive: boolean | undefined): string {
  if (origin === 'string') return 'must not be empty'
  if (origin === 'array') return `expected at least ${minimum} item${Number(minimum) === 1 ? '' : 's'}`
  return `expected a number ${inclusive ? '>=' : '>'} ${minimum}`
}
