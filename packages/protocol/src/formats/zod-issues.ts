import type { z } from 'zod'
import { RerankError, type RerankErrorCode } from '../errors/rerank-error'
import { fastParse, undecided } from './fast-parse'

/** Dotted path of a zod issue (`documents.3.text`), or undefined at the root. */
export function issuePath(issue: z.core.$ZodIssue): string | undefined {
  return issue.path.length > 0 ? issue.path.map(String).join('.') : undefined
}

/**
 * Parses with a zod schema and turns the first issue into a RerankError naming the field at fault.
 * Requests fail as `invalid_request` (the caller's fault), responses as `upstream_error` (the server's).
 */
export function parseWith<T>(
  schema: z.ZodType<T>,
  value: unknown,
  kind: 'request' | 'response',
  rootMessage: string,
): T {
  const fast = fastParse(schema, value)
  if (fast !== undecided) return fast as T
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  const param = issuePath(issue)
  const code: RerankErrorCode = kind === 'request' ? 'invalid_request' : 'upstream_error'
  const what = kind === 'request' ? 'Invalid request' : 'Invalid response from the reranker'
  const message = param === undefined ? rootMessage : `${what}: ${param}: ${issue.message}`
  throw new RerankError(
    code,
    message,
    param === undefined ? { cause: parsed.error } : { param, cause: parsed.error },
  )
}
