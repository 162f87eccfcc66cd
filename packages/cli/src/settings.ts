import { existsSync, readFileSync } from 'node:fs'
import { rerankRoutePaths } from '@rerank-kit/server'

/**
 * The RERANKER_* settings of `rerank-kit serve`. Each comes from (last wins) the defaults, a `.env` file, the
 * environment, then command-line flags (`--port 8080`, `--model-path ./m`, `--use-offline-mode`). Anything
 * unknown or invalid stops the start with a message naming it.
 */
export interface Settings {
  host: string
  port: number
  /** Inference worker threads. */
  workers: number | undefined
  /** The hub id to serve, and the model's name in requests (default: MODEL_PATH's folder name, else a MiniLM). */
  modelName: string | undefined
  modelPath: string | undefined
  modelCacheDir: string
  useOfflineMode: boolean
  maxLength: number | undefined
  /** Characters a document may have (413 past it); longer texts than the model reads are cut before tokenizing. */
  maxDocumentLength: number
  /** Characters the query may have (413 past it). */
  maxQueryLength: number
  batchSize: number
  /** Pairs that may wait for inference; past it requests are refused at once (503 + Retry-After). */
  maxQueue: number
  /** Load-balancer mode: rerank requests forwarded at once; past it refused at once (503 + Retry-After). */
  maxInFlight: number
  /** Milliseconds to answer a request before 504 (its queued work is dropped). */
  requestTimeout: number
  device: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml'
  useFp16: boolean
  apiKeys: string[]
  /** Requests per minute each API key may make (429 past it); none: unlimited. */
  keyRateLimit: number | undefined
  /** Milliseconds a client has to send a request's headers (slowloris defence: then 408 and closed). */
  headersTimeout: number
  /** Milliseconds a client has to send a whole request, headers and body (then 408 and closed). */
  bodyTimeout: number
  /** Open connections; past it a request gets 503 + Retry-After and its connection is closed. */
  maxConnections: number
  /** Bytes of request bodies held at once across requests; past it 503 + Retry-After, the body unread. */
  maxBodyBytesInFlight: number
  /** Wrong-key attempts allowed per client address per window, then 429 for the rest of it; 0: no limit. */
  authFailureLimit: number
  /** The window of authFailureLimit, in milliseconds. */
  authFailureWindow: number
  /** Routes served without a key even when keys are set. */
  publicRoutes: string[]
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  loadBalancerEnabled: boolean
  configPath: string
}

type Parse = (raw: string) => unknown

const text: Parse = (raw) => raw
const integer =
  (min: number): Parse =>
  (raw) => {
    const value = Number(raw)
    if (!/^\d+$/.test(raw.trim()) || value < min) throw new Error(`expected an integer >= ${min}`)
    return value
  }
const boolean: Parse = (raw) => {
  const value = raw.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(value)) return true
  if (['false', '0', 'no', 'off', ''].includes(value)) return false
  throw new Error('expected true or false')
}
const oneOf =
  (...choices: string[]): Parse =>
  (raw) => {
    // The seed said "mps" for Apple GPUs; onnxruntime's provider for them is CoreML.
    const value = raw.trim().toLowerCase() === 'mps' ? 'coreml' : raw.trim().toLowerCase()
    if (!choices.includes(value)) throw new Error(`expected one of ${choices.join(', ')}`)
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

const definitions: Record<string, { key: keyof Settings; parse: Parse; fallback: unknown; help: string }> = {
  HOST: { key: 'host', parse: text, fallback: '0.0.0.0', help: 'listen address' },
  PORT: { key: 'port', parse: integer(0), fallback: 8000, help: 'listen port (0: a free one, logged)' },
  WORKERS: {
    key: 'workers',
    parse: integer(1),
    fallback: undefined,
    help: 'inference worker threads (default: 1 below 4 cores, else 2)',
  },
  MODEL_NAME: {
    key: 'modelName',
    parse: text,
    fallback: undefined,
    help: 'hub id to serve, and the name requests use (default: Xenova/ms-marco-MiniLM-L-6-v2)',
  },
  MODEL_PATH: { key: 'modelPath', parse: text, fallback: undefined, help: 'a local model folder instead' },
  MODEL_CACHE_DIR: { key: 'modelCacheDir', parse: text, fallback: './models', help: 'where downloads go' },
  USE_OFFLINE_MODE: {
    key: 'useOfflineMode',
    parse: boolean,
    fallback: false,
    help: 'never touch the network (local folder or cache only)',
  },
  MAX_LENGTH: {
    key: 'maxLength',
    parse: integer(8),
    fallback: undefined,
    help: "longest input in tokens (default: the model's limit)",
  },
  MAX_DOCUMENT_LENGTH: {
    key: 'maxDocumentLength',
    parse: integer(1),
    // The body limit (10 MiB): any document a request can carry is admitted, and cut to the model's length.
    fallback: 10_485_760,
    help: 'characters a document may have; past it, 413',
  },
  MAX_QUERY_LENGTH: {
    key: 'maxQueryLength',
    parse: integer(1),
    fallback: 10_485_760,
    help: 'characters the query may have; past it, 413',
  },
  BATCH_SIZE: { key: 'batchSize', parse: integer(1), fallback: 32, help: 'most pairs per batch' },
  MAX_QUEUE: {
    key: 'maxQueue',
    parse: integer(1),
    fallback: 32_000,
    help: 'pairs that may wait for the model; past it, 503 + Retry-After at once',
  },
  MAX_IN_FLIGHT: {
    key: 'maxInFlight',
    parse: integer(1),
    fallback: 256,
    help: 'load-balancer mode: requests forwarded at once; past it, 503 + Retry-After at once',
  },
  REQUEST_TIMEOUT: {
    key: 'requestTimeout',
    parse: integer(1),
    fallback: 30_000,
    help: 'ms to answer a request, then 504; a request that would queue over half of it gets 503 at once',
  },
  DEVICE: {
    key: 'device',
    parse: oneOf('auto', 'cpu', 'cuda', 'dml', 'coreml'),
    fallback: 'auto',
    help: 'auto, cpu, cuda, dml or coreml (mps is read as coreml)',
  },
  USE_FP16: { key: 'useFp16', parse: boolean, fallback: false, help: 'load onnx/model_fp16.onnx' },
  API_KEY: { key: 'apiKeys', parse: keys, fallback: [], help: 'comma-separated keys clients must send' },
  KEY_RATE_LIMIT: {
    key: 'keyRateLimit',
    parse: integer(1),
    fallback: undefined,
    help: 'requests per minute each API key may make (429 + Retry-After past it)',
  },
  HEADERS_TIMEOUT: {
    key: 'headersTimeout',
    parse: integer(1),
    fallback: 10_000,
    help: "ms a client has to send a request's headers, then 408 and closed",
  },
  BODY_TIMEOUT: {
    key: 'bodyTimeout',
    parse: integer(1),
    fallback: 30_000,
    help: 'ms a client has to send a whole request (headers and body), then 408 and closed',
  },
  MAX_CONNECTIONS: {
    key: 'maxConnections',
    parse: integer(1),
    fallback: 1024,
    help: 'open connections; past it, 503 + Retry-After and the connection closed',
  },
  MAX_BODY_BYTES_IN_FLIGHT: {
    key: 'maxBodyBytesInFlight',
    // At least one body at the 10 MiB per-request limit, or such a body would be refused forever.
    parse: integer(10 * 2 ** 20),
    fallback: 64 * 2 ** 20,
    help: 'bytes of request bodies read at once across requests; past it, 503 + Retry-After, the body unread',
  },
  AUTH_FAILURE_LIMIT: {
    key: 'authFailureLimit',
    parse: integer(0),
    fallback: 30,
    help: 'wrong-key attempts per client address per window, then 429 until the window ends (0: no limit)',
  },
  AUTH_FAILURE_WINDOW: {
    key: 'authFailureWindow',
    parse: integer(1),
    fallback: 60_000,
    help: 'ms of the wrong-key window, counted from an address its first failure',
  },
  PUBLIC_ROUTES: {
    key: 'publicRoutes',
    parse: routeList,
    fallback: ['/health', '/ready'],
    help: 'comma-separated GET routes served without a key (e.g. add /docs,/openapi.json)',
  },
  LOG_LEVEL: {
    key: 'logLevel',
    parse: oneOf('debug', 'info', 'warn', 'warning', 'error'),
    fallback: 'info',
    help: 'debug, info, warn or error',
  },
  LOAD_BALANCER_ENABLED: {
    key: 'loadBalancerEnabled',
    parse: boolean,
    fallback: false,
    help: 'serve a router over the backends of --config-path',
  },
  CONFIG_PATH: {
    key: 'configPath',
    parse: text,
    fallback: './reranker_config.yaml',
    help: "the router's LiteLLM-style YAML config",
  },
}

/** One line per setting: its flag, its variable, its default and what it does (for `serve --help`). */
export function settingsHelp(): string {
  const rows = Object.entries(definitions).map(([setting, { parse, fallback, help }]) => {
    const flag = `--${setting.toLowerCase().replaceAll('_', '-')}${parse === boolean ? '' : ' <value>'}`
    const shown =
      fallback === undefined || (Array.isArray(fallback) && fallback.length === 0) ? '' : ` [${fallback}]`
    return [flag, `RERANKER_${setting}`, `${help}${shown}`] as const
  })
  const flagWidth = Math.max(...rows.map(([flag]) => flag.length))
  const variableWidth = Math.max(...rows.map(([, variable]) => variable.length))
  return rows
    .map(
      ([flag, variable, help]) => `  ${flag.padEnd(flagWidth)}  ${variable.padEnd(variableWidth)}  ${help}`,
    )
    .join('\n')
}

export class SettingsError extends Error {}

/** `KEY=value` lines; `#` comments and blank lines skipped, optional quotes removed. */
export function parseDotEnv(content: string): Record<string, string> {
  const values: Record<string, string> = {}
  for (const line of content.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (!match || line.trim().startsWith('#')) continue
    values[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, '$2')
  }
  return values
}

function flagsToSettings(argv: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') continue // package managers pass it through from `pnpm start -- --port 1`
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg)
    if (!match) throw new SettingsError(`Unexpected argument "${arg}" (flags look like --port 8080)`)
    const name = match[1]!.toUpperCase().replaceAll('-', '_')
    if (!(name in definitions)) throw new SettingsError(`Unknown flag --${match[1]}`)
    const next = argv[i + 1]
    if (match[2] !== undefined) {
      values[name] = match[2]
    } else if (next !== undefined && !next.startsWith('--')) {
      values[name] = next
      i++
    } else if (definitions[name]!.parse === boolean) {
      values[name] = 'true' // a bare flag: --use-offline-mode
    } else {
      // `--api-key $KEY` with KEY unset reaches here as a bare `--api-key`: it must not become the key "true".
      throw new SettingsError(`Flag --${match[1]} (RERANKER_${name}) needs a value`)
    }
  }
  return values
}

export function loadSettings(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
  dotEnvPath = '.env',
): Settings {
  const fromFile = existsSync(dotEnvPath) ? parseDotEnv(readFileSync(dotEnvPath, 'utf8')) : {}
  const layers: [string, Record<string, string | undefined>][] = [
    [dotEnvPath, fromFile],
    ['the environment', env],
  ]
  const raw: Record<string, { value: string; from: string }> = {}
  for (const [from, values] of layers) {
    for (const [name, value] of Object.entries(values)) {
      if (!name.startsWith('RERANKER_') || value === undefined) continue
      const setting = name.slice('RERANKER_'.length)
      if (!(setting in definitions)) throw new SettingsError(`Unknown setting ${name} (from ${from})`)
      raw[setting] = { value, from }
    }
  }
  for (const [setting, value] of Object.entries(flagsToSettings(argv)))
    raw[setting] = { value, from: 'the command line' }

  const settings: Record<string, unknown> = {}
  for (const [setting, definition] of Object.entries(definitions)) {
    const given = raw[setting]
    if (given === undefined) {
      settings[definition.key] = definition.fallback
      continue
    }
    try {
      settings[definition.key] = definition.parse(given.value)
    } catch (error) {
      throw new SettingsError(
        `Invalid RERANKER_${setting}="${given.value}" (from ${given.from}): ${(error as Error).message}`,
      )
    }
  }
  if ((settings.headersTimeout as number) > (settings.bodyTimeout as number)) {
    // The headers are part of the request: node:http refuses a headers timeout past the request's.
    throw new SettingsError(
      `RERANKER_HEADERS_TIMEOUT (${settings.headersTimeout}) must not exceed RERANKER_BODY_TIMEOUT (${settings.bodyTimeout})`,
    )
  }
  if (settings.logLevel === 'warning') settings.logLevel = 'warn'
  return settings as unknown as Settings
}
