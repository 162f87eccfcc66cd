import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareResults, type RerankResult, rankScores, sortResults } from './rerank-response'

// Scores from a small set, so ties (broken by index) are common.
const scores = fc.array(fc.constantFrom(0, 0.25, 0.5, 0.5000000000000001, 1, 1e-9), { maxLength: 40 })

describe('sortResults', () => {
  it('orders like Array.prototype.sort with compareResults, short lists and long', () => {
    fc.assert(
      fc.property(scores, fc.nat(), (values, seed) => {
        // Shuffled indexes: the insertion path must not rely on results arriving in index order.
        const results: RerankResult[] = values.map((score, index) => ({ index, score }))
        for (let i = results.length - 1; i > 0; i--) {
          const j = (seed + i * 7919) % (i + 1)
          ;[results[i], results[j]] = [results[j]!, results[i]!]
        }
        const expected = [...results].sort(compareResults)
        sortResults(results)
        expect(results).toEqual(expected)
      }),
      { numRuns: 500 },
    )
  })
})

describe('rankScores', () => {
  it('ranks by score, ties by index, cut to topN, with documents when asked', () => {
    const request = { documents: ['a', 'b', 'c', 'd'], topN: 3, returnDocuments: true }
    expect(rankScores(request, [0.5, 0.9, 0.5, 0.1])).toEqual([
      { index: 1, score: 0.9, document: 'b' },
      { index: 0, score: 0.5, document: 'a' },
      { index: 2, score: 0.5, document: 'c' },
    ])
  })
})
