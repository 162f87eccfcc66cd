import { existsSync, readFileSync } from 'node:fs'
import type { RouteFamilyPrefixes } from '@rerank-kit/server'
import { boolean, settingDefinitions as definitions } from './settings-schema'

/**
 * The RERANKER_* settings of `rerank-kit serve`. Each comes from (last wins) the defaults, a `.env` file, the
 * environment, then command-line flags (`--port 8080`, `--model-path ./m`, `--use-offline-mode`). Anything
 * unknown or invalid stops the start with a message naming it. What each one means and its default:
 * settings-schema.ts.
 */
export interface Settings {
  host: string
  port: number
  /** Inference worker threads. */
  workers: number | undefined
  /** The hub id to serve, and the model's name in requests (default: MODEL_PATH's folder name, else a MiniLM). */
  modelName: string | undefined
  modelPath: string | undefined
  /** Where downloads go; unset: the default cache that the libraries use too (core's `defaultCacheDir`). */
  modelCacheDir: string | undefined
  useOfflineMode: boolean
  maxLength: number | undefined
  /** Model names clients send → the served model that answers them. */
  modelAliases: Record<string, string>
  /** Any model name is answered by the default model. */
  acceptAnyModel: boolean
  /** Where each API family is mounted (`false`: not served); unset families keep their default paths. */
  routePrefixes: RouteFamilyPrefixes
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
  device: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu'
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
  logFormat: 'pretty' | 'json' | 'auto'
  /** One info line per answered request. */
  logRequests: boolean
  /** An OTLP/HTTP collector to export traces to; undefined: none. */
  otlpEndpoint: string | undefined
  loadBalancerEnabled: boolean
  configPath: string
  /** Refuse router config keys that are not read, instead of warning about them. */
  strictConfig: boolean
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

const aliases = new Map(
  Object.entries(definitions).flatMap(([setting, { aliases = [] }]) =>
    aliases.map((alias) => [alias, setting]),
  ),
)

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
      const given = name.slice('RERANKER_'.length)
      const setting = aliases.get(given) ?? given
      if (!(setting in definitions)) throw new SettingsError(`Unknown setting ${name} (from ${from})`)
      // The setting's own name wins over an alias given in the same layer, whatever the order of the lines.
      if (setting !== given && raw[setting]?.from === from) continue
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
