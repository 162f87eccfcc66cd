import { headerValue } from './request-headers'

type Headers = Readonly<Record<string, string | string[] | undefined>>

/** The key a caller presented: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: Headers): string {
  const authorization = headerValue(headers, 'authorization') ?? ''
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization.trim())
  return bearer ? bearer[1]!.trim() : (headerValue(headers, 'x-api-key') ?? '').trim()
}

/**
 * Compares in time independent of where the strings differ and of which configured key matches: every key
 * is compared in full, over the longer of the two lengths. (The seed compared with ==.)
 */
export function apiKeyMatches(candidate: string, keys: readonly string[]): boolean {
  let matched = 0
  for (const key of keys) {
    const length = Math.max(candidate.length, key.length)
    let difference = candidate.length ^ key.length
    for (let i = 0; i < length; i++) difference |= (candidate.charCodeAt(i) | 0) ^ (key.charCodeAt(i) | 0)
    matched |= difference === 0 ? 1 : 0
  }
  return candidate.length > 0 && matched === 1
}
