import { finalizeRequest } from '../../canonical-request'
import type { RerankRequest } from '../../rerank-request'
import type { RerankFormat } from '../format'
import { definedEntries, eitherAlias } from '../request-helpers'
import {
  documentAsObject,
  modelResultsUsageJson,
  relevanceResults,
  responseFromWire,
} from '../response-helpers'
import { parseWith } from '../zod-issues'
import {
  type JinaWireError,
  type JinaWireRequest,
  type JinaWireResponse,
  jinaRequestSchema,
  jinaResponseSchema,
} from './jina-api'

export const jinaFormat: RerankFormat<JinaWireRequest, JinaWireResponse> = {
  name: 'jina',
  defaultPath: '/v1/rerank',
  requestSchema: jinaRequestSchema,
  responseSchema: jinaResponseSchema,

  parseRequest(body) {
    const wire = parseWith(
      jinaRequestSchema,
      body,
      'request',
      'Invalid request: the body must be a JSON object',
    )
    const documents = eitherAlias<RerankRequest['documents']>(wire, 'documents', 'texts', { required: true })
    const topN = eitherAlias<number>(wire, 'top_n', 'top_k', { required: false, same: (a, b) => a === b })
    return finalizeRequest(
      {
        query: wire.query,
        documents: documents.value!,
        topN: topN.value,
        returnDocuments: wire.return_documents ?? true,
        model: wire.model,
      },
      { query: 'query', documents: documents.name, topN: topN.name, rankFields: 'rank_fields' },
    )
  },

  formatRequest(request) {
    return definedEntries({
      model: request.model,
      query: request.query,
      documents: request.documents,
      top_n: request.topN,
      return_documents: request.returnDocuments,
    })
  },

  parseResponse(body, request) {
    const wire = parseWith(
      jinaResponseSchema,
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
      { model: wire.model, usage: { totalTokens: wire.usage?.total_tokens ?? wire.usage?.prompt_tokens } },
      request,
    )
  },

  formatResponse(response, request) {
    const wire: JinaWireResponse = { model: response.model ?? request.model ?? 'unknown', results: [] }
    // Jina always sends usage; we send it only when the tokens were really counted.
    if (response.usage?.totalTokens !== undefined) wire.usage = { total_tokens: response.usage.totalTokens }
    wire.results = relevanceResults(response, request, documentAsObject)
    return wire
  },
  // formatResponse's text, field for field (format-response-json.test.ts holds the two to it).
  formatResponseJson: modelResultsUsageJson,

  formatError: (error): JinaWireError => ({ detail: error.publicMessage }),
}
