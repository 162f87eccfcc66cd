import { parseModelAliases, parseRouteFamilyPrefixes, rerankRoutePaths } from '@rerank-kit/server'
import type { Settings } from './settings'

/**
 * The one description of every RERANKER_* setting: how it parses, its default, and the words that `serve --help`,
 * the root README's settings table and deploy/rerank-kit.env.example show (all three are made from it, and a
 * test compares them, so a default cannot differ between them).
 */
export interface SettingDefinition {
  key: keyof Settings
  parse: Parse
  /** The value when the setting is not given (`undefined`: computed at start, see `defaultText`). */
  fallback: unknown
  /** Shown instead of the fallback where it is computed at start (`1 below 4 cores, else 2`) or absent; Markdown. */
  defaultText?: string
  /** One line, for the CLI help, the env example and the table. */
  help: string
  /** More for the README table only. */
  details?: string
  /** Where the env example lists it. */
  group: SettingGroup
  /** The env example sets this value (uncommented): a deployment's usual choice, not the default. */
  deployed?: string
  /** A value the env example shows, commented out, where the setting has no default to show. */
  example?: string
  /** Other variable names read for it (without the RERANKER_ prefix). */
  aliases?: readonly string[]
}

export type SettingGroup = 'Server' | 'Model' | 'Limits' | 'Access' | 'Load balancer'

export type Parse = (raw: string) => unknown

const text: Parse = (raw) => raw
const integer =
  (min: number): Parse =>
  (raw) => {
    const value = Number(raw)
    if (!/^\d+$/.test(raw.trim()) || value < min) throw new Error(`expected an integer >= ${min}`)
    return value
  }
export const boolean: Parse = (raw) => {
  const value = raw.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(value)) return true
  if (['false', '0', 'no', 'off', ''].includes(value)) return false
  throw new Error('expected true or false')
}
const oneOf =
  (...choices: string[]): Parse =>
  (raw) => {
    // Python reranker services say "mps" for Apple GPUs; onnxruntime's provider for them is CoreML.
    const value = raw.trim().toLowerCase() === 'mps' ? 'coreml' : raw.trim().toLowerCase()
    if (!choices.includes(value)) throw new Error(`expected one of ${choices.join(', ')}`)
    return value
  }
const httpUrl: Parse = (raw) => {
  const value = raw.trim()
  if (value === '') return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error('expected an http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('expected an http(s) URL')
  return value
}
const keys: Parse = (raw) => {
  const given = raw
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean)
  // Set but blank (`RERANKER_API_KEY=` in a .env) is a mistake, not a request for no auth: refusing to start
  // beats serving openly without a word.
  if (given.length === 0) throw new Error('no key in it (leave it unset to serve without auth)')
  return given
}
/** Comma-separated GET routes of the server (only those may be made public; a typo must not pass silently). */
const routeList: Parse = (raw) => {
  const routes = raw
    .split(',')
    .map((route) => route.trim())
    .filter(Boolean)
  const unknown = routes.filter((route) => !(rerankRoutePaths.get as readonly string[]).includes(route))
  if (unknown.length > 0) {
    throw new Error(`not a GET route: ${unknown.join(', ')} (routes: ${rerankRoutePaths.get.join(', ')})`)
  }
  return routes
}

/** The model served when none is named: an ONNX export of ms-marco-MiniLM-L-6-v2 that transformers.js uses. */
export const defaultModelName = 'Xenova/ms-marco-MiniLM-L-6-v2'

/** Keyed by the variable's name without `RERANKER_`; the flag is its kebab-case (`--max-queue`). */
export const settingDefinitions: Readonly<Record<string, SettingDefinition>> = {
  HOST: {
    key: 'host',
    parse: text,
    fallback: '0.0.0.0',
    help: 'listen address',
    details: 'without an API key, an address beyond loopback logs a warning',
    group: 'Server',
    deployed: '127.0.0.1',
  },
  PORT: {
    key: 'port',
    parse: integer(0),
    fallback: 8000,
    help: 'listen port; 0 picks a free one (logged)',
    group: 'Server',
    deployed: '8000',
  },
  WORKERS: {
    key: 'workers',
    parse: integer(1),
    fallback: undefined,
    defaultText: '1 below 4 cores, else 2',
    help: 'inference worker threads',
    group: 'Server',
    example: '2',
  },
  ROUTE_PREFIXES: {
    key: 'routePrefixes',
    parse: parseRouteFamilyPrefixes,
    fallback: {},
    defaultText: 'none (`/voyage`, `/tei`, `/api` for Jina, the root for the others)',
    help: 'comma-separated family=prefix pairs moving an API family (native, cohere, cohere-v2, jina, voyage, mixedbread, tei); off leaves one out',
    details:
      'e.g. `tei=/,native=/native` answers TEI clients at `/rerank`; two families on one path is a start-up error',
    group: 'Server',
    example: 'tei=/,native=/native',
  },
  LOG_LEVEL: {
    key: 'logLevel',
    parse: oneOf('debug', 'info', 'warn', 'warning', 'error'),
    fallback: 'info',
    help: 'debug, info, warn or error',
    group: 'Server',
  },
  LOG_FORMAT: {
    key: 'logFormat',
    parse: oneOf('pretty', 'json', 'auto'),
    fallback: 'pretty',
    help: 'pretty (time, level, message, fields), json (one JSON object per line) or auto',
    details: 'auto: pretty when stderr is a terminal, json otherwise (a container or service log)',
    group: 'Server',
  },
  LOG_REQUESTS: {
    key: 'logRequests',
    parse: boolean,
    fallback: false,
    help: 'one info line per request: id, route, status, duration, documents, tokens (no query or text)',
    group: 'Server',
  },
  OTLP_ENDPOINT: {
    key: 'otlpEndpoint',
    parse: httpUrl,
    fallback: undefined,
    defaultText: 'none (spans stay no-ops)',
    help: 'export OpenTelemetry traces (OTLP over HTTP, JSON) to this collector',
    details:
      'its base URL (`/v1/traces` is added, as for OTEL_EXPORTER_OTLP_ENDPOINT) or the full traces URL; the service is named by OTEL_SERVICE_NAME (default `rerank-kit`); unset: spans stay no-ops',
    group: 'Server',
    example: 'http://127.0.0.1:4318',
  },
  MODEL_NAME: {
    key: 'modelName',
    parse: text,
    fallback: undefined,
    defaultText: `\`${defaultModelName}\``,
    help: 'hub id to serve, and the name requests use',
    group: 'Model',
    deployed: defaultModelName,
  },
  MODEL_PATH: {
    key: 'modelPath',
    parse: text,
    fallback: undefined,
    defaultText: 'none',
    help: 'a local model folder instead, named after the folder',
    group: 'Model',
    example: '/srv/models/my-reranker',
  },
  MODEL_CACHE_DIR: {
    key: 'modelCacheDir',
    parse: text,
    fallback: undefined,
    defaultText: '`$XDG_CACHE_HOME/rerank-kit/models`, else `~/.cache/rerank-kit/models`',
    help: 'where downloads go, the same folder the libraries use',
    details:
      '`LocalReranker` reads the same variable when given no `cacheDir`; `RERANKER_MODEL_DIR` is read too',
    group: 'Model',
    deployed: '/var/lib/rerank-kit/models',
    aliases: ['MODEL_DIR'],
  },
  USE_OFFLINE_MODE: {
    key: 'useOfflineMode',
    parse: boolean,
    fallback: false,
    help: 'never touch the network: a local folder or the cache only',
    group: 'Model',
  },
  MAX_LENGTH: {
    key: 'maxLength',
    parse: integer(8),
    fallback: undefined,
    defaultText: "the model's limit",
    help: 'longest input in tokens',
    group: 'Model',
    example: '512',
  },
  BATCH_SIZE: {
    key: 'batchSize',
    parse: integer(1),
    fallback: 32,
    help: 'most pairs per batch',
    group: 'Model',
  },
  DEVICE: {
    key: 'device',
    parse: oneOf('auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'),
    fallback: 'auto',
    help: 'auto, cpu, cuda, dml, coreml or webgpu; mps is read as coreml',
    details:
      'auto tries the GPU providers that can start here, then cpu: cuda when its libraries are installed, webgpu (bundled; on Linux it needs a Vulkan loader and driver); an explicit device that cannot start stops the start',
    group: 'Model',
  },
  USE_FP16: {
    key: 'useFp16',
    parse: boolean,
    fallback: false,
    help: 'load onnx/model_fp16.onnx (half precision)',
    group: 'Model',
  },
  MODEL_ALIASES: {
    key: 'modelAliases',
    parse: parseModelAliases,
    fallback: {},
    defaultText: 'none',
    help: 'comma-separated name=served-name pairs: model names clients send, answered by a served model',
    details:
      "clients send their vendor's default (`rerank-v3.5`, `rerank-2`, ...) unless told; an unknown name is a 404 listing the served models",
    group: 'Model',
    example: `rerank-v3.5=${defaultModelName},rerank-2=${defaultModelName}`,
  },
  ACCEPT_ANY_MODEL: {
    key: 'acceptAnyModel',
    parse: boolean,
    fallback: false,
    help: "answer any model name with the default model (the answer's model names it)",
    group: 'Model',
  },
  MAX_DOCUMENT_LENGTH: {
    key: 'maxDocumentLength',
    parse: integer(1),
    // The body limit (10 MiB): any document a request can carry is admitted, and cut to the model's length.
    fallback: 10_485_760,
    help: 'characters a document may have; past it, 413',
    details:
      'the default is the body limit (10 MiB): any document a request can carry is admitted, and its text is cut ' +
      'to what the model reads before it is tokenized',
    group: 'Limits',
  },
  MAX_QUERY_LENGTH: {
    key: 'maxQueryLength',
    parse: integer(1),
    fallback: 10_485_760,
    help: 'characters the query may have; past it, 413',
    group: 'Limits',
  },
  MAX_QUEUE: {
    key: 'maxQueue',
    parse: integer(1),
    fallback: 32_000,
    help: 'pairs that may wait for the model; past it, 503 + Retry-After at once',
    group: 'Limits',
  },
  MAX_IN_FLIGHT: {
    key: 'maxInFlight',
    parse: integer(1),
    fallback: 256,
    help: 'load-balancer mode: requests forwarded at once; past it, 503 + Retry-After at once',
    details: '`/ready` then says `saturated`',
    group: 'Limits',
  },
  REQUEST_TIMEOUT: {
    key: 'requestTimeout',
    parse: integer(1),
    fallback: 30_000,
    help: 'ms to answer a request, then 504; a request that would queue over half of it gets 503 at once',
    group: 'Limits',
  },
  HEADERS_TIMEOUT: {
    key: 'headersTimeout',
    parse: integer(1),
    fallback: 10_000,
    help: "ms a client has to send a request's headers, then 408 and closed",
    group: 'Limits',
  },
  BODY_TIMEOUT: {
    key: 'bodyTimeout',
    parse: integer(1),
    fallback: 30_000,
    help: 'ms a client has to send a whole request, headers and body, then 408 and closed',
    group: 'Limits',
  },
  MAX_CONNECTIONS: {
    key: 'maxConnections',
    parse: integer(1),
    fallback: 1024,
    help: 'open connections; past it, 503 + Retry-After and the connection closed',
    group: 'Limits',
  },
  MAX_BODY_BYTES_IN_FLIGHT: {
    key: 'maxBodyBytesInFlight',
    // At least one body at the 10 MiB per-request limit, or such a body would be refused forever.
    parse: integer(10 * 2 ** 20),
    fallback: 64 * 2 ** 20,
    help: 'bytes of request bodies read at once across requests; past it, 503 + Retry-After, the body unread',
    details: 'the default is 64 MiB; at least 10 MiB (one body at the per-request limit)',
    group: 'Limits',
  },
  API_KEY: {
    key: 'apiKeys',
    parse: keys,
    fallback: [],
    defaultText: 'none',
    help: 'comma-separated keys clients must send',
    details: 'set but blank is a start-up error (exit 2), not "no auth"',
    group: 'Access',
    example: 'change-me,another-key',
  },
  KEY_RATE_LIMIT: {
    key: 'keyRateLimit',
    parse: integer(1),
    fallback: undefined,
    defaultText: 'none',
    help: 'requests per minute each API key may make; past it, 429 + Retry-After',
    details: '`/health`, `/ready`, `/stats`, `/lb/stats`, `/metrics` are not counted',
    group: 'Access',
    example: '600',
  },
  AUTH_FAILURE_LIMIT: {
    key: 'authFailureLimit',
    parse: integer(0),
    fallback: 30,
    help: 'wrong-key attempts per client address per window, then 429 until the window ends; 0: no limit',
    details: 'behind a proxy all clients share its address',
    group: 'Access',
  },
  AUTH_FAILURE_WINDOW: {
    key: 'authFailureWindow',
    parse: integer(1),
    fallback: 60_000,
    help: "ms of the wrong-key window, counted from an address's first failure",
    group: 'Access',
  },
  PUBLIC_ROUTES: {
    key: 'publicRoutes',
    parse: routeList,
    fallback: ['/health', '/ready'],
    help: 'comma-separated GET routes served without a key; add /docs,/openapi.json to browse the docs',
    details: 'the list replaces the default, so keep `/health,/ready` in it',
    group: 'Access',
  },
  LOAD_BALANCER_ENABLED: {
    key: 'loadBalancerEnabled',
    parse: boolean,
    fallback: false,
    help: 'serve a router over the backends of --config-path',
    group: 'Load balancer',
  },
  CONFIG_PATH: {
    key: 'configPath',
    parse: text,
    fallback: './reranker_config.yaml',
    help: "the router's LiteLLM-style YAML config",
    group: 'Load balancer',
    example: '/etc/rerank-kit/router.yaml',
  },
  STRICT_CONFIG: {
    key: 'strictConfig',
    parse: boolean,
    fallback: false,
    help: 'refuse to start on a key of the router config that rerank-kit does not read, instead of warning',
    details: 'as `strict: true` in the file does',
    group: 'Load balancer',
  },
}

/**
 * The default as every listing shows it: the value (`8000`, `/health,/ready`) or the words of `defaultText`,
 * plain (`markdown: true` keeps its backticks for the README).
 */
export function shownDefault(definition: SettingDefinition, { markdown = false } = {}): string {
  if (definition.defaultText !== undefined) {
    return markdown ? definition.defaultText : definition.defaultText.replaceAll('`', '')
  }
  const { fallback } = definition
  return Array.isArray(fallback) ? fallback.join(',') : String(fallback)
}

/** `--max-queue <value>`, or `--use-offline-mode` for a yes/no setting. */
export function flagOf(setting: string): string {
  const flag = `--${setting.toLowerCase().replaceAll('_', '-')}`
  return settingDefinitions[setting]?.parse === boolean ? flag : `${flag} <value>`
}
