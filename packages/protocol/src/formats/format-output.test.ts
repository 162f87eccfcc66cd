import { describe, expect, it } from 'vitest'
import { RerankError } from '../errors/rerank-error'
import type { RerankRequest } from '../rerank-request'
import type { RerankResponse } from '../rerank-response'
import { cohereFormat, cohereV2Format } from './cohere/cohere-format'
import { rerankFormatNames, rerankFormats } from './index'
import { infinityFormat } from './infinity/infinity-format'
import { jinaFormat } from './jina/jina-format'
import { mixedbreadFormat } from './mixedbread/mixedbread-format'
import { nativeFormat } from './native/native-format'
import { teiFormat } from './tei/tei-format'
import { voyageFormat } from './voyage/voyage-format'

// What each family puts on the wire, exactly: sorted results, documents only when asked and in the family's
// shape, no null anywhere, real usage, errors in the family's body.

const request: RerankRequest = {
  query: 'capital of France',
  documents: ['Berlin is in Germany.', { text: 'Paris is the capital of France.', id: 'doc-2' }, 'Paris!'],
  returnDocuments: true,
  model: 'm',
}
// Deliberately unsorted, with a tie: formatters sort by score, then index.
const response: RerankResponse = {
  id: 'r-1',
  model: 'mini',
  results: [
    { index: 2, score: 0.75 },
    { index: 0, score: 0.01 },
    { index: 1, score: 0.75 },
  ],
  usage: { totalTokens: 42 },
}

function hasNull(value: unknown): boolean {
  if (value === null) return true
  if (typeof value !== 'object') return false
  return Object.values(value as object).some(hasNull)
}

describe('formatResponse', () => {
  it('native: {model, results, usage}, object documents echoed whole', () => {
    expect(nativeFormat.formatResponse(response, request)).toEqual({
      model: 'mini',
      results: [
        {
          index: 1,
          relevance_score: 0.75,
          document: { text: 'Paris is the capital of France.', id: 'doc-2' },
        },
        { index: 2, relevance_score: 0.75, document: { text: 'Paris!' } },
        { index: 0, relevance_score: 0.01, document: { text: 'Berlin is in Germany.' } },
      ],
      usage: { total_tokens: 42 },
    })
  })

  it('documents are omitted (not null) when not asked for, and usage when unknown', () => {
    const bare = { ...request, returnDocuments: false }
    const unknownUsage = { results: response.results }
    for (const name of rerankFormatNames) {
      const body = rerankFormats[name].formatResponse(unknownUsage, bare)
      expect(hasNull(body), name).toBe(false)
      expect(JSON.stringify(body), name).not.toMatch(/"(document|text|input|usage)"/)
    }
  })

  it('Cohere v1 (the /v1 superset): id, model, usage and meta with version 1 and real search units', () => {
    const many: RerankRequest = {
      query: 'q',
      documents: Array.from({ length: 250 }, (_, i) => `d${i}`),
      topN: 2,
    }
    const scores: RerankResponse = {
      results: many.documents.map((_, index) => ({ index, score: index / 1000 })),
    }
    expect(cohereFormat.formatResponse({ ...scores, id: 'x' }, many)).toEqual({
      id: 'x',
      model: 'unknown',
      results: [
        { index: 249, relevance_score: 0.249 },
        { index: 248, relevance_score: 0.248 },
      ],
      meta: { api_version: { version: '1' }, billed_units: { search_units: 3 } },
    })
    const withUsage = cohereFormat.formatResponse(response, { ...request, returnDocuments: false })
    // Together's three fields: @ai-sdk/togetherai refuses an answer without any of them.
    expect(withUsage.usage).toEqual({ prompt_tokens: 42, completion_tokens: 0, total_tokens: 42 })
    expect(withUsage.meta).toEqual({
      api_version: { version: '1' },
      billed_units: { search_units: 1 },
      tokens: { input_tokens: 42 },
    })
  })

  it('Cohere v2: version 2, no model, a fresh uuid when the response has no id, usage only when counted', () => {
    const body = cohereV2Format.formatResponse(
      { results: response.results },
      { ...request, returnDocuments: false },
    )
    expect(Object.keys(body).sort()).toEqual(['id', 'meta', 'results'])
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(body.meta.api_version.version).toBe('2')
    const counted = cohereV2Format.formatResponse(response, { ...request, returnDocuments: false })
    expect(counted.usage).toEqual({ prompt_tokens: 42, completion_tokens: 0, total_tokens: 42 })
  })

  it('reads top_k as an alias of top_n on the Cohere and Jina routes (Voyage and mixedbread users send it)', () => {
    for (const format of [cohereFormat, cohereV2Format, jinaFormat]) {
      expect(
        format.parseRequest({ query: 'q', documents: ['a', 'b', 'c'], top_k: 2 }).topN,
        format.name,
      ).toBe(2)
      expect(format.parseRequest({ query: 'q', documents: ['a'], top_k: 1, top_n: 1 }).topN).toBe(1)
      expect(() => format.parseRequest({ query: 'q', documents: ['a'], top_k: 1, top_n: 2 })).toThrow(
        'Invalid request: send either top_n or top_k, not both',
      )
      expect(() => format.parseRequest({ query: 'q', documents: ['a'], top_k: 0 })).toThrow(/top_k/)
    }
  })

  it('Jina: {model, usage, results} with {text} documents', () => {
    expect(jinaFormat.formatResponse(response, { ...request, topN: 1 })).toEqual({
      model: 'mini',
      usage: { total_tokens: 42 },
      results: [
        {
          index: 1,
          relevance_score: 0.75,
          document: { text: 'Paris is the capital of France.', id: 'doc-2' },
        },
      ],
    })
  })

  it('TEI: a bare array with score and text', () => {
    expect(teiFormat.formatResponse(response, request)).toEqual([
      { index: 1, score: 0.75, text: 'Paris is the capital of France.' },
      { index: 2, score: 0.75, text: 'Paris!' },
      { index: 0, score: 0.01, text: 'Berlin is in Germany.' },
    ])
  })

  it('Infinity: object "rerank", bare string documents, token usage, id and created', () => {
    const body = infinityFormat.formatResponse(response, request)
    expect(body).toMatchObject({
      object: 'rerank',
      model: 'mini',
      id: 'r-1',
      usage: { prompt_tokens: 42, total_tokens: 42 },
    })
    expect(body.results[0]).toEqual({
      index: 1,
      relevance_score: 0.75,
      document: 'Paris is the capital of France.',
    })
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(5)
  })

  it('Voyage and mixedbread: object "list" with data', () => {
    expect(voyageFormat.formatResponse(response, { ...request, topN: 1 })).toEqual({
      object: 'list',
      data: [{ index: 1, relevance_score: 0.75, document: 'Paris is the capital of France.' }],
      model: 'mini',
      usage: { total_tokens: 42 },
    })
    expect(mixedbreadFormat.formatResponse(response, { ...request, topN: 1 })).toEqual({
      object: 'list',
      model: 'mini',
      data: [{ index: 1, score: 0.75, input: { text: 'Paris is the capital of France.', id: 'doc-2' } }],
      usage: { prompt_tokens: 42, total_tokens: 42 },
      top_k: 1,
      return_input: true,
    })
    // Both mixedbread SDKs type top_k as always there: without top_k asked, every document was ranked.
    expect(mixedbreadFormat.formatResponse(response, request).top_k).toBe(3)
  })

  it('refuses to put a NaN or out-of-range score on the wire (internal error, never "null")', () => {
    for (const score of [Number.NaN, Number.POSITIVE_INFINITY, 1.0000001, -0.1]) {
      for (const name of rerankFormatNames) {
        const run = () => rerankFormats[name].formatResponse({ results: [{ index: 0, score }] }, request)
        expect(run, `${name} ${score}`).toThrowError(RerankError)
        expect(run, `${name} ${score}`).toThrowError(/is not a valid score/)
      }
    }
    // Raw scores are logits: any finite value is fine.
    expect(
      nativeFormat.formatResponse({ results: [{ index: 0, score: -7.5 }] }, { ...request, rawScores: true }),
    ).toMatchObject({ results: [{ index: 0, relevance_score: -7.5 }] })
  })
})

describe('formatRequest specifics', () => {
  it('Cohere v2 requires a model and sends objects as YAML-like text', () => {
    expect(() => cohereV2Format.formatRequest({ query: 'q', documents: ['a'] })).toThrowError(
      'Cohere v2 requires a model',
    )
    const wire = cohereV2Format.formatRequest({
      model: 'rerank-v3.5',
      query: 'q',
      documents: [{ title: 'T', text: 'body', n: 3 }, 'plain'],
      rankFields: ['title', 'n'],
      returnDocuments: true,
    })
    expect(wire).toEqual({ model: 'rerank-v3.5', query: 'q', documents: ['title: T\nn: 3', 'plain'] })
  })

  it('string-only formats send an object document as its text', () => {
    const objects: RerankRequest = { query: 'q', documents: [{ text: 'hello', id: 1 }] }
    expect(teiFormat.formatRequest(objects).texts).toEqual(['hello'])
    expect(infinityFormat.formatRequest(objects).documents).toEqual(['hello'])
    expect(voyageFormat.formatRequest(objects).documents).toEqual(['hello'])
  })
})

describe('parseResponse checks', () => {
  it('rejects indexes outside the request, repeated indexes, NaN-like scores, naming the field', () => {
    const outside = () =>
      cohereFormat.parseResponse({ results: [{ index: 3, relevance_score: 0.5 }] }, request)
    expect(outside).toThrowError(
      'Invalid response from the reranker: index 3 is outside the 3 documents sent',
    )
    const repeated = () =>
      jinaFormat.parseResponse({
        results: [
          { index: 1, relevance_score: 0.5 },
          { index: 1, relevance_score: 0.4 },
        ],
      })
    expect(repeated).toThrowError('index 1 repeats')
    try {
      nativeFormat.parseResponse({ results: [{ index: 0, relevance_score: 'high' }] })
      expect.unreachable()
    } catch (error) {
      expect((error as RerankError).code).toBe('upstream_error')
      expect((error as RerankError).param).toBe('results.0.relevance_score')
      expect((error as RerankError).message).toBe(
        'Invalid response from the reranker: results.0.relevance_score: expected a finite number',
      )
    }
  })

  it('sorts, applies topN client-side (TEI has none) and attaches the request documents', () => {
    const tei = teiFormat.parseResponse(
      [
        { index: 0, score: 0.2 },
        { index: 2, score: 0.9 },
        { index: 1, score: 0.5 },
      ],
      { ...request, topN: 2 },
    )
    expect(tei.results).toEqual([
      { index: 2, score: 0.9, document: 'Paris!' },
      { index: 1, score: 0.5, document: { text: 'Paris is the capital of France.', id: 'doc-2' } },
    ])
    expect(tei.model).toBe('m')
  })

  it('reads a Cohere "document": null as absent', () => {
    const parsed = cohereFormat.parseResponse({
      results: [{ index: 0, relevance_score: 0.3, document: null }],
    })
    expect(parsed.results).toEqual([{ index: 0, score: 0.3 }])
  })
})
