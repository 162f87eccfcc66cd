import { type Logger, RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import type { ServedReranker } from './handler-types'
import { createRerankServer } from './node-server'
import { listening } from './test-support/listening'

// Under a dead backend every request fails the same way: the server's `request failed` line is logged once,
// then as one line with a count per interval, not once per request.

/** A reranker whose backend is gone: every call fails with the cause of the moment. */
function deadBackend() {
  const state = { cause: 'Error: fetch failed: connect ECONNREFUSED 127.0.0.1:9' }
  const reranker: ServedReranker = {
    modelNames: ['m'],
    rerank: async () => {
      throw new RerankError('network_error', 'Could not reach http://127.0.0.1:9', { cause: state.cause })
    },
  }
  return { reranker, state }
}

function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = []
  const record =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, message, fields })
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  }
  return { logger, lines }
}

describe("the handler's request failed line", () => {
  it('is logged once for identical failures, then once per interval with the count', async () => {
    const { logger, lines } = recordingLogger()
    const backend = deadBackend()
    const handler = createRerankHandler({ reranker: backend.reranker, logger, repeatedLogIntervalMs: 400 })
    const app = await listening(createRerankServer(handler))
    const rerank = (path = '/rerank') =>
      fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'q', documents: ['d'] }),
      })
    const failed = () => lines.filter((line) => line.message === 'request failed')
    try {
      const statuses = []
      for (let i = 0; i < 50; i++) statuses.push((await rerank()).status)
      expect(new Set(statuses)).toEqual(new Set([502]))
      expect(failed()).toHaveLength(1)
      expect(failed()[0]!.fields).toMatchObject({
        path: '/rerank',
        code: 'network_error',
        error: backend.state.cause,
      })
      expect(failed()[0]!.fields.requestId).toEqual(expect.any(String))
      // Another path, or another cause, is another line, logged at once.
      await rerank('/v1/rerank')
      backend.state.cause = 'Error: fetch failed: connect ETIMEDOUT 10.0.0.1:80'
      await rerank()
      expect(failed()).toHaveLength(3)
      await new Promise((resolve) => setTimeout(resolve, 600))
      const counted = failed().slice(3)
      expect(counted).toHaveLength(1)
      expect(counted[0]!.fields).toMatchObject({ path: '/rerank', repeated: 49, withinMs: 400 })
      expect(counted[0]!.level).toBe('error')
    } finally {
      await app.close()
    }
  })
})
