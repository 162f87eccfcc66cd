import { headerValue } from './request-headers'

type Headers = Readonly<Record<string, string | string[] | undefined>>

/**
 * The key a caller presented: `Authorization: Bearer <key>`, a bare `Authorization: <key>` (mixedbread's older
 * SDK sends it so), or `x-api-key: <key>`. Another scheme (`Basic ...`) is not a key.
 */
export function presentedKey(headers: Headers): string {
  const authorization = (headerValue(headers, 'authorization') ?? '').trim()
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization)
  if (bearer) return bearer[1]!.trim()
  if (authorization !== '' && !/\s/.test(authorization) && !/^Bearer$/i.test(authorization))
    return authorization
  return (headerValue(headers, 'x-api-key') ?? '').trim()
}

/**
 * Compares in time independent of where the strings differ and of which configured key matches: every key
 * is compared in full, over the longer of the two lengths. (The seed compared with ==.)
 */
export function apiKeyMatches(candidate: string, keys: readonly string[]): boolean {
  return matchingKeyIndex(candidate, keys) !== -1
}

/**
 * The position of the configured key the candidate equals, or -1: the same full comparison as
 * `apiKeyMatches`, for callers that count per key (rate limits) without ever holding the key itself.
 */
export function matchingKeyIndex(candidate: string, keys: readonly string[]): number {
  let index = -1
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!
    const length = Math.max(candidate.length, key.length)
    let difference = candidate.length ^ key.length
    for (let i = 0; i < length; i++) difference |= (candidate.charCodeAt(i) | 0) ^ (key.charCodeAt(i) | 0)
    // Branch-free select: a match does not end the loop or take another path.
    const same = ((difference | -difference) >>> 31) ^ 1
    index = (index & -(same ^ 1)) | (k & -same)
  }
  return candidate.length > 0 ? index : -1
}
