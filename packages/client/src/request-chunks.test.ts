import { describe, expect, it } from 'vitest'
import { chunkRequest, mergeChunks } from './request-chunks'

const documents = ['a', 'b', 'c', 'd', 'e']

describe('chunkRequest / mergeChunks', () => {
  it('leaves a request within the limit alone', () => {
    const request = { query: 'q', documents, topN: 2 }
    expect(chunkRequest(request, 5)).toEqual([{ offset: 0, request }])
  })

  it('splits past the limit, dropping topN from the chunks', () => {
    const chunks = chunkRequest({ query: 'q', documents, topN: 2, returnDocuments: true }, 2)
    expect(chunks).toEqual([
      { offset: 0, request: { query: 'q', documents: ['a', 'b'], returnDocuments: true } },
      { offset: 2, request: { query: 'q', documents: ['c', 'd'], returnDocuments: true } },
      { offset: 4, request: { query: 'q', documents: ['e'], returnDocuments: true } },
    ])
  })

  it('merges answers back: shifted indexes, one order, the whole list cut to topN, usage summed', () => {
    const merged = mergeChunks({ query: 'q', documents, topN: 3 }, [
      {
        offset: 0,
        response: {
          id: 'x',
          model: 'm',
          results: [
            { index: 1, score: 0.2 },
            { index: 0, score: 0.1 },
          ],
          usage: { totalTokens: 4 },
        },
      },
      {
        offset: 2,
        response: {
          results: [
            { index: 1, score: 0.9 },
            { index: 0, score: 0.2 },
          ],
          usage: { totalTokens: 5 },
        },
      },
      { offset: 4, response: { results: [{ index: 0, score: 0.5 }], usage: { totalTokens: 1 } } },
    ])
    expect(merged).toEqual({
      id: 'x',
      model: 'm',
      results: [
        { index: 3, score: 0.9 },
        { index: 4, score: 0.5 },
        { index: 1, score: 0.2 },
      ],
      usage: { totalTokens: 10 },
    })
  })

  it('reports no usage when a chunk had none', () => {
    const merged = mergeChunks({ query: 'q', documents: ['a', 'b'] }, [
      { offset: 0, response: { results: [{ index: 0, score: 0.1 }], usage: { totalTokens: 4 } } },
      { offset: 1, response: { results: [{ index: 0, score: 0.3 }] } },
    ])
    expect(merged).toEqual({
      results: [
        { index: 1, score: 0.3 },
        { index: 0, score: 0.1 },
      ],
    })
  })
})
