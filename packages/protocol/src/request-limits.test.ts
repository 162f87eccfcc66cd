import { describe, expect, it } from 'vitest'
import { RerankError } from './errors/rerank-error'
import { checkRequestLimits } from './request-limits'

// The size limits a server checks before any work: 413 naming the limit and the field (the server's route
// families show the message in their own error format; see packages/cli/src/hostile-large-document.test.ts).

function refusal(check: () => void): RerankError {
  try {
    check()
  } catch (error) {
    if (RerankError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected a refusal')
}

describe('checkRequestLimits', () => {
  it('counts a document object by the text it is ranked on, and names the document', () => {
    const request = {
      query: 'q',
      // Without rank_fields an object is ranked on its `text`: its long title does not count.
      documents: ['short', { title: 'x'.repeat(50), text: 'y'.repeat(11) }],
    }
    const error = refusal(() => checkRequestLimits(request, { maxDocumentLength: 10 }))
    expect(error.status).toBe(413)
    expect(error.message).toBe('Document 1 has 11 characters, the limit is 10')
    expect(error.param).toBe('documents.1')
    expect(() => checkRequestLimits(request, { maxDocumentLength: 11 })).not.toThrow()
  })

  it("bounds a decoder's instruction by the query's limit", () => {
    const request = { query: 'q', documents: ['d'], instruction: 'i'.repeat(21) }
    const error = refusal(() => checkRequestLimits(request, { maxQueryLength: 20 }))
    expect(error.status).toBe(413)
    expect(error.message).toBe("The instruction has 21 characters, the limit is 20 (the query's)")
    expect(error.param).toBe('instruction')
    expect(() =>
      checkRequestLimits({ ...request, instruction: 'i'.repeat(20) }, { maxQueryLength: 20 }),
    ).not.toThrow()
  })
})
