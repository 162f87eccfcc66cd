import { readFile } from 'node:fs/promises'
import { type ErrorCode, LineCounter, parseDocument, type YAMLError } from 'yaml'
import { type EnvSource, resolveEnvReferences } from './env-references'
import { normaliseDeployments } from './normalise-deployments'
import { normaliseSettings } from './normalise-settings'
import type { RouterConfig } from './router-config'
import { ConfigIssues, formatConfigPath, RouterConfigError } from './router-config-error'
import { configErrorMap, routerConfigSchema } from './router-config-schema'
import { unsupportedKeyPaths } from './unsupported-keys'

/**
 * Validates a router config given as an object (written in code, or parsed from YAML or JSON) in LiteLLM's
 * shape, resolves its `os.environ/NAME` references and returns it normalised: defaults applied, times in ms,
 * provider prefixes turned into formats.
 *
 * Keys we do not read are listed in `unsupportedKeys` (LiteLLM configs carry `general_settings`, provider
 * credentials...) for the caller to warn about, or refused with `strict`; their environment references need
 * not resolve: only the keys read here must.
 *
 * @throws RouterConfigError naming every bad key by its path; never quoting a value.
 */
export function parseRouterConfig(
  raw: unknown,
  env: EnvSource = process.env,
  options: ParseRouterConfigOptions = {},
): RouterConfig {
  const parsed = routerConfigSchema.safeParse(raw, { error: configErrorMap })
  if (!parsed.success) {
    throw new RouterConfigError(
      parsed.error.issues.map((issue) => ({ path: formatConfigPath(issue.path), message: issue.message })),
    )
  }
  // After the schema, so references under ignored keys (e.g. general_settings.master_key) need not be set.
  const config = resolveEnvReferences(parsed.data, env)
  const issues = new ConfigIssues()
  const deployments = normaliseDeployments(config.model_list, env, issues)
  const groups = new Set(deployments.map((deployment) => deployment.modelName))
  const settings = normaliseSettings(config.router_settings, config.litellm_settings, groups, env, issues)
  const unsupported = unsupportedKeyPaths(raw, routerConfigSchema)
  if (options.strict || config.strict) {
    for (const path of unsupported) issues.add(path, 'not supported by rerank-kit (strict mode refuses it)')
  }
  issues.throwIfAny()
  return { deployments, settings, unsupportedKeys: unsupported.map(formatConfigPath) }
}

export interface ParseRouterConfigOptions {
  /** Refuse a key that is not read (as `strict: true` in the file does), instead of listing it. */
  strict?: boolean
}

/**
 * Reads a YAML router config (LiteLLM's `config.yaml` shape) and parses it with `parseRouterConfig`. Errors
 * name the file; YAML syntax errors also name the line and column.
 */
export async function loadRouterConfig(
  path: string,
  env: EnvSource = process.env,
  options: ParseRouterConfigOptions = {},
): Promise<RouterConfig> {
  const raw = parseYaml(await readConfigFile(path), path)
  try {
    return parseRouterConfig(raw, env, options)
  } catch (error) {
    if (error instanceof RouterConfigError) throw new RouterConfigError(error.issues, { source: path })
    throw error
  }
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error'
    throw new RouterConfigError([{ path: '', message: `cannot read the file (${code})` }], {
      source: path,
      cause: error,
    })
  }
}

function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter()
  // merge: LiteLLM configs often share litellm_params through `<<: *defaults`.
  const document = parseDocument(text, { lineCounter, merge: true, prettyErrors: false })
  if (document.errors.length > 0) {
    throw new RouterConfigError(
      document.errors.map((error) => ({ path: '', message: yamlErrorMessage(error, lineCounter) })),
      { source: file },
    )
  }
  try {
    return document.toJS()
  } catch {
    // The library's message quotes the alias from the source; ours does not (the line could hold a key).
    throw new RouterConfigError([{ path: '', message: 'YAML error: an alias could not be resolved' }], {
      source: file,
    })
  }
}

/**
 * Line and column plus a description chosen by error code. The library's own messages can quote source text
 * (tags, escapes, tokens), and the offending line may be the one holding an API key.
 */
function yamlErrorMessage(error: YAMLError, lineCounter: LineCounter): string {
  const { line, col } = lineCounter.linePos(error.pos[0])
  return `YAML syntax error at line ${line}, column ${col}: ${yamlErrorDescriptions[error.code]}`
}

const yamlErrorDescriptions: Readonly<Record<ErrorCode, string>> = {
  ALIAS_PROPS: 'an alias cannot have an anchor or a tag',
  BAD_ALIAS: 'invalid alias',
  BAD_DIRECTIVE: 'invalid directive',
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'anchors and tags must come after the indicator',
  BAD_SCALAR_START: 'a plain value cannot start with this character (quote it)',
  BLOCK_AS_IMPLICIT_KEY: 'nested mappings are not allowed in compact mappings',
  BLOCK_IN_FLOW: 'block collections are not allowed inside flow collections',
  DUPLICATE_KEY: 'map keys must be unique',
  IMPOSSIBLE: 'unexpected parser state',
  KEY_OVER_1024_CHARS: 'implicit keys must be under 1024 characters',
  MISSING_CHAR: 'missing character (a closing quote or bracket, a comma, or a space after a colon)',
  MULTILINE_IMPLICIT_KEY: 'implicit keys must be on a single line',
  MULTIPLE_ANCHORS: 'a node can have at most one anchor',
  MULTIPLE_DOCS: 'a config file holds one YAML document',
  MULTIPLE_TAGS: 'a node can have at most one tag',
  NON_STRING_KEY: 'keys must be strings',
  RESOURCE_EXHAUSTION: 'too many alias expansions',
  TAB_AS_INDENT: 'tabs are not allowed as indentation',
  TAG_RESOLVE_FAILED: 'unresolved tag',
  UNEXPECTED_TOKEN: 'unexpected token',
  BAD_COLLECTION_TYPE: 'tag does not fit the collection type',
}
