import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { RerankFormatName } from './formats/format'
import { rerankFormats } from './formats/index'
import type { RerankDocument, RerankRequest } from './rerank-request'
import { compareResults, type RerankResponse } from './rerank-response'

// format -> JSON -> parse gives back what was formatted, for every family, in both directions.

type RequestField = Exclude<keyof RerankRequest, 'query' | 'documents' | 'returnDocuments'>

interface FamilySpec {
  /** Documents may be objects on this wire (else only strings survive). */
  objects: boolean
  /** Canonical request fields this family carries. */
  fields: RequestField[]
  /** Response parts this family carries. */
  response: ('id' | 'model' | 'totalTokens' | 'searchUnits')[]
  /** Cohere v2 has no return_documents: a client attaches documents itself, so the flag is not sent. */
  sendsReturnDocuments?: false
}

const spec: Record<RerankFormatName, FamilySpec> = {
  native: {
    objects: true,
    fields: [
      'topN',
      'model',
      'rankFields',
      'maxTokensPerDoc',
      'maxChunksPerDoc',
      'rawScores',
      'instruction',
      'truncate',
      'truncationDirection',
    ],
    response: ['model', 'totalTokens'],
  },
  cohere: {
    objects: true,
    fields: ['topN', 'model', 'rankFields', 'maxTokensPerDoc', 'maxChunksPerDoc'],
    response: ['id', 'model', 'totalTokens', 'searchUnits'],
  },
  'cohere-v2': {
    objects: false,
    fields: ['topN', 'model', 'maxTokensPerDoc'],
    response: ['id', 'totalTokens', 'searchUnits'],
    sendsReturnDocuments: false,
  },
  jina: { objects: true, fields: ['topN', 'model'], response: ['model', 'totalTokens'] },
  tei: { objects: false, fields: ['rawScores', 'truncate', 'truncationDirection'], response: [] },
  infinity: { objects: false, fields: ['topN', 'model', 'rawScores'], response: ['id', 'model'] },
  voyage: { objects: false, fields: ['topN', 'model', 'truncate'], response: ['model', 'totalTokens'] },
  mixedbread: { objects: true, fields: ['topN', 'model', 'rankFields'], response: ['model', 'totalTokens'] },
}

const text = fc.string({ unit: 'grapheme', maxLength: 40 })
const nonBlank = text.filter((value) => value.trim() !== '')

function documentArb(objects: boolean): fc.Arbitrary<RerankDocument> {
  if (!objects) return text
  return fc.oneof(
    text,
    fc.record({ text, title: text }, { requiredKeys: ['text'] }),
    fc.record({ text, id: fc.integer(), tags: fc.array(text, { maxLength: 2 }) }),
  )
}

function requestArb(family: FamilySpec, v2: boolean): fc.Arbitrary<RerankRequest> {
  const has = (field: RequestField) => family.fields.includes(field)
  return fc
    .record({
      query: nonBlank,
      documents: fc.array(documentArb(family.objects), { minLength: 1, maxLength: 8 }),
      returnDocuments: fc.boolean(),
      model: v2 ? nonBlank : fc.option(nonBlank, { nil: undefined }),
      topN: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
      rankFields: fc.option(fc.constantFrom(['text'], ['title', 'text']), { nil: undefined }),
      maxTokensPerDoc: fc.option(fc.integer({ min: 1, max: 8192 }), { nil: undefined }),
      maxChunksPerDoc: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
      rawScores: fc.option(fc.boolean(), { nil: undefined }),
      instruction: fc.option(text, { nil: undefined }),
      truncate: fc.option(fc.boolean(), { nil: undefined }),
      truncationDirection: fc.option(fc.constantFrom('left' as const, 'right' as const), { nil: undefined }),
    })
    .map((draft) => {
      const request: RerankRequest = {
        query: draft.query,
        documents: draft.documents,
        returnDocuments: draft.returnDocuments,
      }
      for (const field of family.fields) {
        const value = draft[field]
        if (value !== undefined && has(field)) (request as unknown as Record<string, unknown>)[field] = value
      }
      if (request.topN !== undefined) request.topN = Math.min(request.topN, request.documents.length)
      return request
    })
}

function responseArb(request: RerankRequest): fc.Arbitrary<RerankResponse> {
  const count = request.documents.length
  const score = request.rawScores
    ? fc.double({ min: -30, max: 30, noNaN: true })
    : fc.double({ min: 0, max: 1, noNaN: true })
  return fc
    .record({
      scores: fc.array(score, { minLength: count, maxLength: count }),
      id: fc.uuid(),
      model: nonBlank,
      totalTokens: fc.integer({ min: 0, max: 100_000 }),
      searchUnits: fc.integer({ min: 1, max: 10 }),
    })
    .map(({ scores, id, model, totalTokens, searchUnits }) => {
      const results = scores.map((value, index) => ({ index, score: value === 0 ? 0 : value }))
      results.sort(compareResults)
      const kept = request.topN === undefined ? results : results.slice(0, request.topN)
      return {
        id,
        model,
        usage: { totalTokens, searchUnits },
        results: kept.map((result) =>
          request.returnDocuments ? { ...result, document: request.documents[result.index]! } : result,
        ),
      }
    })
}

const wire = (value: unknown) => JSON.parse(JSON.stringify(value))

describe.each(Object.keys(spec) as RerankFormatName[])('%s round trips', (name) => {
  const format = rerankFormats[name]
  const family = spec[name]
  const requests = requestArb(family, name === 'cohere-v2')

  it('request: formatRequest -> JSON -> parseRequest is the identity', () => {
    fc.assert(
      fc.property(requests, (request) => {
        const expected =
          family.sendsReturnDocuments === false ? { ...request, returnDocuments: false } : request
        expect(format.parseRequest(wire(format.formatRequest(request)))).toEqual(expected)
      }),
      { numRuns: 150 },
    )
  })

  it('response: formatResponse -> JSON -> parseResponse keeps results and what the family carries', () => {
    const pairs = requests.chain((request) => responseArb(request).map((response) => ({ request, response })))
    fc.assert(
      fc.property(pairs, ({ request, response }) => {
        const parsed = format.parseResponse(wire(format.formatResponse(response, request)), request)
        expect(parsed.results).toEqual(response.results)
        if (family.response.includes('id')) expect(parsed.id).toBe(response.id)
        if (family.response.includes('model')) expect(parsed.model).toBe(response.model)
        if (family.response.includes('totalTokens'))
          expect(parsed.usage?.totalTokens).toBe(response.usage?.totalTokens)
        if (family.response.includes('searchUnits'))
          expect(parsed.usage?.searchUnits).toBe(response.usage?.searchUnits)
      }),
      { numRuns: 150 },
    )
  })
})
