import { modelNotFound } from '@rerank-kit/protocol'

/**
 * How the names clients send map to served models. Every vendor's client sends its vendor's model name unless
 * told otherwise (`rerank-v3.5`, `rerank-2`, `mixedbread-ai/mxbai-rerank-large-v1`): aliases let such a client
 * work unchanged, and `acceptAnyModel` answers every name with the first served model.
 */
export interface ModelNameOptions {
  /** A name clients send → the served model that answers it. */
  modelAliases?: Readonly<Record<string, string>>
  /**
   * Off by default. Any model name is answered by the first served model (the answer's `model` names it);
   * otherwise an unknown name is a 404 listing the served models.
   */
  acceptAnyModel?: boolean
}

/**
 * The served model a request's name stands for: the name itself when served, else its alias, else (with
 * `acceptAnyModel`) the first served model; otherwise `model_not_found`. Without a list of served models (a
 * reranker that does not tell) only aliases apply, and the reranker decides.
 */
export function modelNameResolver(
  options: ModelNameOptions,
): (asked: string, served: readonly string[] | undefined) => string {
  const aliases = new Map(Object.entries(options.modelAliases ?? {}))
  const acceptAny = options.acceptAnyModel === true
  return (asked, served) => {
    if (served === undefined) return aliases.get(asked) ?? asked
    if (served.includes(asked)) return asked
    const aliased = aliases.get(asked)
    if (aliased !== undefined && served.includes(aliased)) return aliased
    if (acceptAny && served.length > 0) return served[0]!
    throw modelNotFound(asked, served)
  }
}

/**
 * `name=served-name` pairs, comma-separated, as RERANKER_MODEL_ALIASES gives them. The served name may hold
 * `=` (none does in practice); the alias may not.
 */
export function parseModelAliases(raw: string): Record<string, string> {
  const aliases: Record<string, string> = {}
  for (const pair of raw.split(',').map((part) => part.trim())) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const name = pair.slice(0, equals).trim()
    const served = pair.slice(equals + 1).trim()
    if (equals === -1 || name === '' || served === '') throw new Error(`"${pair}" is not name=served-name`)
    aliases[name] = served
  }
  return aliases
}

/** Aliases that point at no served model: a typo, named at start instead of a 404 on every request. */
export function unservedAliasTargets(
  aliases: Readonly<Record<string, string>>,
  served: readonly string[],
): string[] {
  return Object.entries(aliases)
    .filter(([, target]) => !served.includes(target))
    .map(([name, target]) => `${name}=${target}`)
}
