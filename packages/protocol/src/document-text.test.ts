import { describe, expect, it } from 'vitest'
import { parseRerankRequest } from './canonical-request'
import { documentText, hasRankableText } from './document-text'
import { rankScores } from './rerank-response'

describe('documentText', () => {
  it('is the string, the text field, or rank fields as "field: value" lines', () => {
    expect(documentText('plain')).toBe('plain')
    expect(documentText({ text: 'body', title: 'T' })).toBe('body')
    expect(
      documentText({ text: 'body', title: 'T', year: 2020, tags: ['a'] }, [
        'title',
        'year',
        'tags',
        'missing',
      ]),
    ).toBe('title: T\nyear: 2020\ntags: ["a"]')
    expect(documentText('plain', ['title'])).toBe('plain')
    expect(hasRankableText({ title: null }, ['title'])).toBe(false)
    expect(hasRankableText({ text: 3 } as never)).toBe(false)
  })
})

describe('rankScores', () => {
  it('sorts by score then index, cuts to topN, attaches documents only when asked', () => {
    const documents = ['a', { text: 'b', id: 2 }, 'c', 'd']
    expect(rankScores({ documents, topN: 3 }, [0.1, 0.7, 0.7, 0.3])).toEqual([
      { index: 1, score: 0.7 },
      { index: 2, score: 0.7 },
      { index: 3, score: 0.3 },
    ])
    expect(rankScores({ documents, topN: 1, returnDocuments: true }, [0.1, 0.7, 0.7, 0.3])).toEqual([
      { index: 1, score: 0.7, document: { text: 'b', id: 2 } },
    ])
  })
})

describe('parseRerankRequest (requests built in code)', () => {
  it('applies the wire rules to camelCase input', () => {
    expect(
      parseRerankRequest({ query: 'q', documents: ['a', 'b'], topN: 9, returnDocuments: false }),
    ).toEqual({
      query: 'q',
      documents: ['a', 'b'],
      topN: 2,
      returnDocuments: false,
    })
    expect(() => parseRerankRequest({ query: 'q', documents: ['a'], topN: 0 })).toThrowError(
      'Invalid request: topN: expected an integer >= 1',
    )
    expect(() => parseRerankRequest({ query: 'q', documents: [] })).toThrowError(
      'documents must not be empty',
    )
  })
})
