import { RerankError } from '@rerank-kit/client'

/**
 * Why a call to Infinity failed, in the words an operator acts on: the system code of a connection that never
 * happened (ECONNREFUSED, ENOTFOUND, ECONNRESET), a timeout, or the HTTP status Infinity answered. The answer
 * to the caller stays generic (a 502 or 504): this goes to the log only.
 */
export function describeUpstreamFailure(error: unknown): string {
  if (!RerankError.isInstance(error)) return error instanceof Error ? error.message : String(error)
  if (error.code === 'timeout') return `timeout: ${error.message}`
  if (error.upstreamStatus !== undefined) return `answered HTTP ${error.upstreamStatus} (${error.code})`
  return systemCodeOf(error) ?? `${error.code}: ${error.message}`
}

/** The first `code` like ECONNREFUSED down an error's cause chain (fetch hides it under "fetch failed"). */
export function systemCodeOf(error: unknown): string | undefined {
  let current = error
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown }
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code
    current = cause
  }
  return undefined
}

/**
 * Logs each distinct failure at once, then at most once per `intervalMs` with how many were not logged: a dead
 * Infinity fails every request the same way, and one line per request would bury everything else.
 */
export function failureLog(write: (line: string) => void, intervalMs = 10_000) {
  const last = new Map<string, { at: number; skipped: number }>()
  return (line: string) => {
    const now = Date.now()
    const seen = last.get(line)
    if (seen && now - seen.at < intervalMs) {
      seen.skipped++
      return
    }
    write(seen?.skipped ? `${line} (and ${seen.skipped} more like it)` : line)
    last.set(line, { at: now, skipped: 0 })
  }
}
