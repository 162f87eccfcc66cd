import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { RerankDocument, RerankRequest } from '../rerank-request'
import type { RerankResponse } from '../rerank-response'
import { rerankFormats } from './index'
import { jsonString } from './response-helpers'

// formatResponseJson is a faster twin of JSON.stringify(formatResponse(...)): the two must give the same text
// for every response a server can answer, documents with any characters (quotes, controls, lone surrogates)
// and every kind of finite score included.
const withJson = Object.values(rerankFormats).filter((format) => format.formatResponseJson)

const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('"', '\\', '\u0000', '\ud800', '$&', "$'", '\u2028', '\u0000results-'),
)
const document: fc.Arbitrary<RerankDocument> = fc.oneof(
  text,
  fc.record({ text, title: fc.option(text, { nil: undefined }) }, { requiredKeys: ['text'] }),
)
const score = fc.oneof(
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.constantFrom(0, -0, 1, 0.1 + 0.2, 5e-324, 1e-7),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
)

const case_ = fc
  .record({
    documents: fc.array(document, { minLength: 1, maxLength: 6 }),
    scores: fc.array(score, { minLength: 6, maxLength: 6 }),
    returnDocuments: fc.boolean(),
    topN: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    model: fc.option(text, { nil: undefined }),
    id: fc.option(text, { nil: undefined }),
    fallbackId: text,
    responseModel: fc.option(text, { nil: undefined }),
    totalTokens: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ documents, scores, returnDocuments, topN, model, id, fallbackId, responseModel, totalTokens }) => {
    const request: RerankRequest = { query: 'q', documents, returnDocuments, rawScores: true }
    if (topN !== undefined) request.topN = topN
    if (model !== undefined) request.model = model
    const response: RerankResponse = {
      results: documents
        .map((_, index) => ({ index, score: scores[index]! }))
        .sort((a, b) => b.score - a.score || a.index - b.index),
    }
    if (id !== undefined) response.id = id
    if (responseModel !== undefined) response.model = responseModel
    if (totalTokens !== undefined) response.usage = { totalTokens }
    return { request, response, fallbackId }
  })

describe('jsonString', () => {
  it('quotes a string exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (value) => {
        expect(jsonString(value)).toBe(JSON.stringify(value))
      }),
      { numRuns: 1000 },
    )
    expect(jsonString('a"b\\c\n\ud800')).toBe('"a\\"b\\\\c\\n\\ud800"')
  })
})

describe('formatResponseJson', () => {
  it('is offered by every format the server answers in', () => {
    expect(withJson.map((format) => format.name).sort()).toEqual(
      ['cohere', 'cohere-v2', 'jina', 'native'].sort(),
    )
  })

  for (const format of withJson) {
    it(`${format.name}: the same text as JSON.stringify(formatResponse)`, () => {
      fc.assert(
        fc.property(case_, ({ request, response, fallbackId }) => {
          // The id argument stands in for a missing response id, as the server's request id does.
          const json = format.formatResponseJson!(response, request, fallbackId)
          const withId = { ...response, id: response.id ?? fallbackId }
          expect(json).toBe(JSON.stringify(format.formatResponse(withId, request)))
          // And it reads back as the response it came from.
          const back = format.parseResponse(JSON.parse(json), request)
          expect(back.results.map((result) => result.index)).toEqual(
            response.results.slice(0, request.topN).map((result) => result.index),
          )
        }),
        { numRuns: 300 },
      )
    })
  }
})
