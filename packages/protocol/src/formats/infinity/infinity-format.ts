import { finalizeRequest } from '../../canonical-request'
import type { RerankError } from '../../errors/rerank-error'
import type { RerankRequest } from '../../rerank-request'
import type { RerankFormat } from '../format'
import { definedEntries, eitherAlias } from '../request-helpers'
import { documentAsString, newResponseId, relevanceResults, responseFromWire } from '../response-helpers'
import { parseWith } from '../zod-issues'
import {
  type InfinityWireError,
  type InfinityWireRequest,
  type InfinityWireResponse,
  infinityRequestSchema,
  infinityResponseSchema,
} from './infinity-api'

/** Infinity's OpenAI-style envelope, also used by its /classify route. */
export function formatInfinityError(error: RerankError): InfinityWireError {
  const body: InfinityWireError = {
    error: { message: error.publicMessage, type: error.code, code: error.status },
  }
  if (error.param !== undefined) body.error.param = error.param
  return body
}

export const infinityFormat: RerankFormat<InfinityWireRequest, InfinityWireResponse> = {
  name: 'infinity',
  defaultPath: '/rerank',
  requestSchema: infinityRequestSchema,
  responseSchema: infinityResponseSchema,

  parseRequest(body) {
    const wire = parseWith(
      infinityRequestSchema,
      body,
      'request',
      'Invalid request: the body must be a JSON object',
    )
    const documents = eitherAlias<RerankRequest['documents']>(wire, 'documents', 'texts', { required: true })
    return finalizeRequest(
      {
        query: wire.query,
        documents: documents.value!,
        topN: wire.top_n,
        returnDocuments: wire.return_documents ?? false,
        rawScores: wire.raw_scores,
        model: wire.model,
      },
      { query: 'query', documents: documents.name, topN: 'top_n', rankFields: 'rank_fields' },
    )
  },

  formatRequest(request) {
    return definedEntries({
      model: request.model,
      query: request.query,
      documents: request.documents.map((document) => documentAsString(document, request)),
      return_documents: request.returnDocuments,
      raw_scores: request.rawScores,
      top_n: request.topN,
    })
  },

  parseResponse(body, request) {
    const wire = parseWith(
      infinityResponseSchema,
      body,
      'response',
      'Invalid response from the reranker: expected an object',
    )
    return responseFromWire(
      wire.results.map((item) => ({
        index: item.index,
        score: item.relevance_score,
        document: item.document,
      })),
      { id: wire.id, model: wire.model },
      request,
    )
  },

  formatResponse(response, request) {
    const wire: InfinityWireResponse = {
      object: 'rerank',
      results: relevanceResults(response, request, (document) => documentAsString(document, request)),
      model: response.model ?? request.model ?? 'unknown',
      id: response.id ?? newResponseId(),
      created: Math.floor(Date.now() / 1000),
    }
    // Infinity counts characters here; we report real tokens, and only when they were counted.
    const tokens = response.usage?.totalTokens
    if (tokens !== undefined) wire.usage = { prompt_tokens: tokens, total_tokens: tokens }
    return wire
  },

  formatError: formatInfinityError,
}
