import { finalizeRequest } from '../../canonical-request'
import type { RerankRequest } from '../../rerank-request'
import type { RerankFormat } from '../format'
import { definedEntries, eitherAlias } from '../request-helpers'
import { documentAsString, relevanceResults, responseFromWire } from '../response-helpers'
import { parseWith } from '../zod-issues'
import {
  type VoyageWireError,
  type VoyageWireRequest,
  type VoyageWireResponse,
  voyageRequestSchema,
  voyageResponseSchema,
} from './voyage-api'

export const voyageFormat: RerankFormat<VoyageWireRequest, VoyageWireResponse> = {
  name: 'voyage',
  defaultPath: '/v1/rerank',
  requestSchema: voyageRequestSchema,
  responseSchema: voyageResponseSchema,

  parseRequest(body) {
    const wire = parseWith(
      voyageRequestSchema,
      body,
      'request',
      'Invalid request: the body must be a JSON object',
    )
    const documents = eitherAlias<RerankRequest['documents']>(wire, 'documents', 'texts', { required: true })
    return finalizeRequest(
      {
        query: wire.query,
        documents: documents.value!,
        topN: wire.top_k,
        returnDocuments: wire.return_documents ?? false,
        model: wire.model,
        truncate: wire.truncation,
      },
      { query: 'query', documents: documents.name, topN: 'top_k', rankFields: 'rank_fields' },
    )
  },

  formatRequest(request) {
    return definedEntries({
      query: request.query,
      documents: request.documents.map((document) => documentAsString(document, request)),
      model: request.model,
      top_k: request.topN,
      return_documents: request.returnDocuments,
      truncation: request.truncate,
    })
  },

  parseResponse(body, request) {
    const wire = parseWith(
      voyageResponseSchema,
      body,
      'response',
      'Invalid response from the reranker: expected an object',
    )
    return responseFromWire(
      wire.data.map((item) => ({ index: item.index, score: item.relevance_score, document: item.document })),
      { model: wire.model, usage: { totalTokens: wire.usage?.total_tokens } },
      request,
    )
  },

  formatResponse(response, request) {
    const wire: VoyageWireResponse = {
      object: 'list',
      data: relevanceResults(response, request, (document) => documentAsString(document, request)),
      model: response.model ?? request.model ?? 'unknown',
    }
    if (response.usage?.totalTokens !== undefined) wire.usage = { total_tokens: response.usage.totalTokens }
    return wire
  },

  formatError: (error): VoyageWireError => ({ detail: error.publicMessage }),
}
