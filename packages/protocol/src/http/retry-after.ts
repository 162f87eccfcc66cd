/**
 * Retry-After in both directions. Servers send whole seconds (rounded up, at least 1, so a client never
 * retries at once); clients read seconds, an HTTP date, or the `retry-after-ms` extension some APIs send.
 */
export function retryAfterSeconds(retryAfterMs: number): string {
  return String(Math.max(1, Math.ceil(retryAfterMs / 1000)))
}

export type HeaderLookup = (name: string) => string | null | undefined

export function parseRetryAfter(header: HeaderLookup, now: number = Date.now()): number | undefined {
  const ms = header('retry-after-ms')?.trim()
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms))
  const value = header('retry-after')?.trim()
  if (!value) return undefined
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000)
  const date = Date.parse(value)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}
