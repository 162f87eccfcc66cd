import { RerankError } from '@rerank-kit/client'
import { systemErrorCode } from '@rerank-kit/protocol'

/**
 * Why a call to Infinity failed, in the words an operator acts on: the system code of a connection that never
 * happened (ECONNREFUSED, ENOTFOUND, ECONNRESET), a timeout, or the HTTP status Infinity answered. The answer
 * to the caller stays generic (a 502 or 504): this goes to the log only.
 */
export function describeUpstreamFailure(error: unknown): string {
  if (!RerankError.isInstance(error)) return error instanceof Error ? error.message : String(error)
  if (error.code === 'timeout') return `timeout: ${error.message}`
  if (error.upstreamStatus !== undefined) return `answered HTTP ${error.upstreamStatus} (${error.code})`
  return systemErrorCode(error) ?? `${error.code}: ${error.message}`
}
