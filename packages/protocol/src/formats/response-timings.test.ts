import { describe, expect, it } from 'vitest'
import type { RerankRequest } from '../rerank-request'
import type { RerankResponse } from '../rerank-response'
import { rerankFormatNames, rerankFormats } from './index'

// `timings` is server-side only (the HTTP layer sends it as headers): no format may write it into a body.
describe('response timings', () => {
  const request: RerankRequest = { query: 'q', documents: ['a', 'b'], model: 'm', returnDocuments: true }
  const plain: RerankResponse = {
    id: 'r1',
    model: 'm',
    results: [
      { index: 1, score: 0.9 },
      { index: 0, score: 0.1 },
    ],
    usage: { totalTokens: 12, searchUnits: 1 },
  }
  const timed: RerankResponse = { ...plain, timings: { tokenizationMs: 0.5, queueMs: 1.25, inferenceMs: 3 } }

  it.each(rerankFormatNames)('%s writes the same body with and without timings', (name) => {
    const format = rerankFormats[name]
    expect(format.formatResponse(timed, request)).toEqual(format.formatResponse(plain, request))
    expect(JSON.stringify(format.formatResponse(timed, request))).not.toMatch(/timings|queue|inference/i)
    if (format.formatResponseJson) {
      expect(format.formatResponseJson(timed, request, 'id')).toBe(
        format.formatResponseJson(plain, request, 'id'),
      )
    }
  })
})
