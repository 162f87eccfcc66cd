import { describe, expect, it } from 'vitest'
import { errorFromHttpResponse } from '../http/error-response'
import { cohereFormat, cohereV2Format } from './cohere/cohere-format'
import { parseClassifyRequest } from './infinity/infinity-classify'
import { infinityFormat } from './infinity/infinity-format'
import { jinaFormat } from './jina/jina-format'
import { mixedbreadFormat } from './mixedbread/mixedbread-format'
import { nativeFormat } from './native/native-format'
import { teiFormat } from './tei/tei-format'
import { voyageFormat } from './voyage/voyage-format'

// Every example of ../shared/reference/api-formats.md (and the seed README's request examples), written out
// here so the tests run without that folder. Each must parse, with the values it carries.

describe('examples of api-formats.md', () => {
  it('Cohere v1 response example', () => {
    const body = {
      id: '07734bd2-2473-4f07-94e1-0d9f0e6843cf',
      results: [{ index: 3, relevance_score: 0.999071, document: { text: '...' } }],
      meta: { api_version: { version: '1' }, billed_units: { search_units: 1 } },
    }
    expect(cohereFormat.parseResponse(body)).toEqual({
      id: '07734bd2-2473-4f07-94e1-0d9f0e6843cf',
      results: [{ index: 3, score: 0.999071, document: '...' }],
      usage: { searchUnits: 1 },
    })
    expect(cohereV2Format.parseResponse(body).results[0]?.score).toBe(0.999071)
  })

  it('Jina response example', () => {
    const body = {
      model: 'jina-reranker-v2-base-multilingual',
      usage: { total_tokens: 815 },
      results: [{ index: 0, document: { text: '...' }, relevance_score: 0.8783 }],
    }
    expect(jinaFormat.parseResponse(body)).toEqual({
      model: 'jina-reranker-v2-base-multilingual',
      usage: { totalTokens: 815 },
      results: [{ index: 0, score: 0.8783, document: '...' }],
    })
  })

  it('Jina response with an aggregator usage.prompt_tokens', () => {
    const body = { model: 'm', usage: { prompt_tokens: 12 }, results: [{ index: 0, relevance_score: 0.5 }] }
    expect(jinaFormat.parseResponse(body).usage).toEqual({ totalTokens: 12 })
  })

  it('TEI response example (bare array) and error example', () => {
    expect(teiFormat.parseResponse([{ index: 1, score: 0.9987, text: '...' }])).toEqual({
      results: [{ index: 1, score: 0.9987, document: '...' }],
    })
    const error = errorFromHttpResponse(429, { error: 'Model is overloaded', error_type: 'overloaded' })
    expect(error.code).toBe('rate_limited')
    expect(error.message).toBe('Model is overloaded')
  })

  it('Infinity rerank response (bare string document, character usage) and error envelope', () => {
    const body = {
      object: 'rerank',
      results: [
        { relevance_score: 0.2, index: 1, document: null },
        { relevance_score: 0.9, index: 0, document: 'first' },
      ],
      model: 'mixedbread-ai/mxbai-rerank-xsmall-v1',
      usage: { prompt_tokens: 120, total_tokens: 120 },
      id: 'infinity-1',
      created: 1_700_000_000,
    }
    const response = infinityFormat.parseResponse(body)
    expect(response).toEqual({
      id: 'infinity-1',
      model: 'mixedbread-ai/mxbai-rerank-xsmall-v1',
      results: [
        { index: 0, score: 0.9, document: 'first' },
        { index: 1, score: 0.2 },
      ],
    })
    expect(response.usage).toBeUndefined()
    const error = errorFromHttpResponse(400, {
      error: { message: 'bad input', type: 'BadRequest', param: 'query', code: 400 },
    })
    expect(error.code).toBe('invalid_request')
    expect(error.message).toBe('bad input')
    expect(error.param).toBe('query')
  })

  it('Infinity classify request', () => {
    expect(
      parseClassifyRequest({ model: 'mxbai-rerank-base-v2-seq', input: ['a', 'b'], raw_scores: false }),
    ).toEqual({ model: 'mxbai-rerank-base-v2-seq', input: ['a', 'b'], rawScores: false })
  })

  it('Voyage and mixedbread responses', () => {
    const voyage = {
      object: 'list',
      data: [
        { index: 1, relevance_score: 0.4 },
        { index: 0, relevance_score: 0.7, document: 'x' },
      ],
      model: 'rerank-2',
      usage: { total_tokens: 26 },
    }
    expect(voyageFormat.parseResponse(voyage)).toEqual({
      model: 'rerank-2',
      usage: { totalTokens: 26 },
      results: [
        { index: 0, score: 0.7, document: 'x' },
        { index: 1, score: 0.4 },
      ],
    })
    const mixedbread = {
      object: 'list',
      data: [{ index: 0, score: 0.66, input: { text: 'a', id: 7 } }],
      usage: { prompt_tokens: 9, total_tokens: 9 },
    }
    expect(mixedbreadFormat.parseResponse(mixedbread)).toEqual({
      usage: { totalTokens: 9 },
      results: [{ index: 0, score: 0.66, document: { text: 'a', id: 7 } }],
    })
  })

  it('request shapes of every family', () => {
    const query = 'What is deep learning?'
    const docs = ['Deep learning is a subset of machine learning.', 'The weather is nice today.']
    expect(nativeFormat.parseRequest({ query, documents: docs, top_n: 2, return_documents: true })).toEqual({
      query,
      documents: docs,
      topN: 2,
      returnDocuments: true,
    })
    expect(cohereFormat.parseRequest({ query, documents: ['Document 1', 'Document 2'], top_n: 2 })).toEqual({
      query,
      documents: ['Document 1', 'Document 2'],
      topN: 2,
      returnDocuments: false,
    })
    expect(
      jinaFormat.parseRequest({
        query,
        documents: [{ text: 'Document 1' }, { text: 'Document 2' }],
        top_n: 2,
      }),
    ).toEqual({
      query,
      documents: [{ text: 'Document 1' }, { text: 'Document 2' }],
      topN: 2,
      returnDocuments: true,
    })
    expect(
      cohereV2Format.parseRequest({
        model: 'rerank-v3.5',
        query,
        documents: docs,
        top_n: 1,
        max_tokens_per_doc: 4096,
      }),
    ).toEqual({
      model: 'rerank-v3.5',
      query,
      documents: docs,
      topN: 1,
      maxTokensPerDoc: 4096,
      returnDocuments: false,
    })
    expect(
      teiFormat.parseRequest({
        query,
        texts: docs,
        truncate: true,
        truncation_direction: 'Left',
        raw_scores: true,
        return_text: true,
      }),
    ).toEqual({
      query,
      documents: docs,
      truncate: true,
      truncationDirection: 'left',
      rawScores: true,
      returnDocuments: true,
    })
    expect(
      infinityFormat.parseRequest({
        model: 'm',
        query,
        documents: docs,
        return_documents: false,
        raw_scores: false,
        top_n: 1,
      }),
    ).toEqual({ model: 'm', query, documents: docs, returnDocuments: false, rawScores: false, topN: 1 })
    expect(
      voyageFormat.parseRequest({ query, documents: docs, model: 'rerank-2', top_k: 1, truncation: false }),
    ).toEqual({ query, documents: docs, model: 'rerank-2', topN: 1, truncate: false, returnDocuments: false })
    expect(
      mixedbreadFormat.parseRequest({
        model: 'mixedbread-ai/mxbai-rerank-large-v1',
        query,
        input: docs,
        top_k: 1,
        return_input: true,
      }),
    ).toEqual({
      model: 'mixedbread-ai/mxbai-rerank-large-v1',
      query,
      documents: docs,
      topN: 1,
      returnDocuments: true,
    })
  })

  it('the seed native aliases: texts and top_k', () => {
    expect(nativeFormat.parseRequest({ query: 'q', texts: ['a', 'b'], top_k: 1 })).toEqual({
      query: 'q',
      documents: ['a', 'b'],
      topN: 1,
      returnDocuments: true,
    })
  })
})
