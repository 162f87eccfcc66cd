import { describe, expect, it } from 'vitest'
import { chunkDocument } from './chunking'

const ids = Array.from({ length: 10 }, (_, i) => i)
const plan = { chunkTokens: 4, maxChunks: 1, overlap: 0, truncate: true, direction: 'right' as const }

describe('chunkDocument', () => {
  it('keeps a document that fits whole', () => {
    expect(chunkDocument([1, 2, 3], plan, 0)).toEqual([[1, 2, 3]])
  })

  it('truncates to one chunk: the start, or the end with direction left', () => {
    expect(chunkDocument(ids, plan, 0)).toEqual([[0, 1, 2, 3]])
    expect(chunkDocument(ids, { ...plan, direction: 'left' }, 0)).toEqual([[6, 7, 8, 9]])
  })

  it('splits into at most maxChunks chunks, with overlap', () => {
    expect(chunkDocument(ids, { ...plan, maxChunks: 10 }, 0)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ])
    expect(chunkDocument(ids, { ...plan, maxChunks: 2 }, 0)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ])
    expect(chunkDocument(ids, { ...plan, maxChunks: 10, overlap: 2 }, 0)).toEqual([
      [0, 1, 2, 3],
      [2, 3, 4, 5],
      [4, 5, 6, 7],
      [6, 7, 8, 9],
    ])
  })

  it('refuses an over-long document when truncation is off and chunking is not asked for', () => {
    expect(() => chunkDocument(ids, { ...plan, truncate: false }, 7)).toThrowError(
      'Document 7 has 10 tokens, over the 4 that fit with the query',
    )
    expect(chunkDocument(ids, { ...plan, truncate: false, maxChunks: 3 }, 7)).toHaveLength(3)
  })
})
