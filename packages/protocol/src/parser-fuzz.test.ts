import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseRerankRequest, rerankRequestSchema } from './canonical-request'
import { hasRankableText } from './document-text'
import { RerankError } from './errors/rerank-error'
import { rerankFormatNames, rerankFormats } from './formats/index'
import { parseClassifyRequest, parseClassifyResponse } from './formats/infinity/infinity-classify'
import { qwen3RerankerTemplate } from './prompt-templates'
import type { RerankRequest } from './rerank-request'

// Any JSON value given to any parser yields a valid result or a RerankError of the right class
// (4xx for requests, upstream_error for responses): never another exception.

const fieldNames = [
  'query',
  'documents',
  'texts',
  'input',
  'top_n',
  'top_k',
  'return_documents',
  'return_text',
  'return_input',
  'model',
  'rank_fields',
  'max_tokens_per_doc',
  'max_chunks_per_doc',
  'raw_scores',
  'instruction',
  'truncate',
  'truncation',
  'truncation_direction',
  'results',
  'data',
  'index',
  'relevance_score',
  'score',
  'usage',
  'meta',
  '__proto__',
  'constructor',
]

const plausibleValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.array(fc.oneof(fc.string(), fc.record({ text: fc.string() }), fc.jsonValue({ maxDepth: 2 })), {
    maxLength: 5,
  }),
  fc.integer({ min: -3, max: 10 }),
  fc.double(),
  fc.constantFrom('left', 'right', 'text', ''),
)

// Bodies near the real shapes (known keys, arbitrary values), plus any JSON value at all.
const nearValid = fc.dictionary(fc.constantFrom(...fieldNames), plausibleValue, { maxKeys: 8 })
const anyBody = fc.oneof(
  fc.jsonValue(),
  nearValid,
  nearValid.map((body) => ({ query: 'q', documents: ['a'], ...body })),
)

function assertValidRequest(request: RerankRequest): void {
  expect(rerankRequestSchema.safeParse(request).success).toBe(true)
  expect(request.query.trim()).not.toBe('')
  expect(request.documents.length).toBeGreaterThan(0)
  if (request.topN !== undefined) expect(request.topN).toBeLessThanOrEqual(request.documents.length)
  for (const document of request.documents) expect(hasRankableText(document, request.rankFields)).toBe(true)
}

function expectRequestOutcome(parse: () => unknown, check: (value: never) => void): void {
  let value: unknown
  try {
    value = parse()
  } catch (error) {
    expect(RerankError.isInstance(error), String(error)).toBe(true)
    const status = (error as RerankError).status
    expect(status).toBeGreaterThanOrEqual(400)
    expect(status).toBeLessThan(500)
    return
  }
  check(value as never)
}

describe('request parsers on arbitrary JSON', () => {
  for (const name of rerankFormatNames) {
    it(`${name}: a valid request or a 4xx RerankError`, () => {
      fc.assert(
        fc.property(anyBody, (body) => {
          expectRequestOutcome(() => rerankFormats[name].parseRequest(body), assertValidRequest)
        }),
        { numRuns: 400 },
      )
    })
  }

  it('parseRerankRequest (requests built in code)', () => {
    const camel = fc.dictionary(
      fc.constantFrom(
        'query',
        'documents',
        'topN',
        'rankFields',
        'returnDocuments',
        'maxTokensPerDoc',
        'truncate',
      ),
      plausibleValue,
    )
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), camel), (body) => {
        expectRequestOutcome(() => parseRerankRequest(body), assertValidRequest)
      }),
      { numRuns: 400 },
    )
  })

  it('parseClassifyRequest', () => {
    fc.assert(
      fc.property(fc.oneof(anyBody, fc.record({ input: fc.jsonValue() })), (body) => {
        expectRequestOutcome(
          () => parseClassifyRequest(body),
          (value: { input: string[] }) => {
            expect(value.input.length).toBeGreaterThan(0)
            for (const item of value.input) expect(typeof item).toBe('string')
          },
        )
      }),
      { numRuns: 400 },
    )
  })
})

describe('response parsers on arbitrary JSON', () => {
  const request: RerankRequest = { query: 'q', documents: ['a', 'b', 'c'], returnDocuments: true }
  const anyResponse = fc.oneof(
    fc.jsonValue(),
    nearValid,
    fc.array(
      fc.dictionary(fc.constantFrom('index', 'score', 'relevance_score', 'text', 'document'), plausibleValue),
    ),
    fc.record({
      results: fc.array(
        fc.dictionary(fc.constantFrom('index', 'relevance_score', 'document'), plausibleValue),
      ),
    }),
  )

  function expectResponseOutcome(parse: () => { results: { index: number; score: number }[] }): void {
    let response: { results: { index: number; score: number }[] }
    try {
      response = parse()
    } catch (error) {
      expect(RerankError.isInstance(error), String(error)).toBe(true)
      expect((error as RerankError).code).toBe('upstream_error')
      return
    }
    for (const result of response.results) {
      expect(Number.isFinite(result.score)).toBe(true)
      expect(Number.isInteger(result.index) && result.index >= 0 && result.index < 3).toBe(true)
    }
  }

  for (const name of rerankFormatNames) {
    it(`${name}: a valid response or an upstream_error`, () => {
      fc.assert(
        fc.property(anyResponse, (body) => {
          expectResponseOutcome(() => rerankFormats[name].parseResponse(body, request))
        }),
        { numRuns: 300 },
      )
    })
  }

  it('classify responses', () => {
    const classify = fc.record({
      data: fc.array(
        fc.array(fc.record({ label: fc.constantFrom('yes', 'no', 'LABEL_0'), score: fc.double() })),
      ),
    })
    fc.assert(
      fc.property(fc.oneof(anyResponse, classify), (body) => {
        expectResponseOutcome(() => parseClassifyResponse(body, request, qwen3RerankerTemplate))
      }),
      { numRuns: 300 },
    )
  })
})
