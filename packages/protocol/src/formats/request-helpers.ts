import { RerankError } from '../errors/rerank-error'

/**
 * Picks a field that has a wire alias (`documents` / `texts`, `top_n` / `top_k`). Both at once is refused
 * rather than guessed: silently dropping one list would score the wrong documents.
 */
export function eitherAlias<T>(
  body: Record<string, unknown>,
  primary: string,
  alias: string,
  options: { required: boolean; same?: (a: T, b: T) => boolean },
): { name: string; value: T | undefined } {
  const a = body[primary] as T | undefined
  const b = body[alias] as T | undefined
  if (a !== undefined && b !== undefined && !options.same?.(a, b)) {
    throw new RerankError(
      'invalid_request',
      `Invalid request: send either ${primary} or ${alias}, not both`,
      {
        param: primary,
      },
    )
  }
  if (a === undefined && b === undefined && options.required) {
    throw new RerankError('invalid_request', `Invalid request: ${primary} is required`, { param: primary })
  }
  return a === undefined && b !== undefined ? { name: alias, value: b } : { name: primary, value: a }
}

/** Copies the defined entries only: wire bodies never carry `undefined` or `null` for absent fields. */
export function definedEntries<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T
}
