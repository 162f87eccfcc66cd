import { finalizeRequest } from '../../canonical-request'
import type { RerankError } from '../../errors/rerank-error'
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
  type NativeWireError,
  type NativeWireRequest,
  type NativeWireResponse,
  nativeRequestSchema,
  nativeResponseSchema,
} from './native-api'

export const nativeFormat: RerankFormat<NativeWireRequest, NativeWireResponse> = {
  name: 'native',
  defaultPath: '/rerank',
  requestSchema: nativeRequestSchema,
  responseSchema: nativeResponseSchema,

  parseRequest(body) {
    const wire = parseWith(
      nativeRequestSchema,
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
        rankFields: wire.rank_fields,
        maxTokensPerDoc: wire.max_tokens_per_doc,
        maxChunksPerDoc: wire.max_chunks_per_doc,
        rawScores: wire.raw_scores,
        instruction: wire.instruction,
        truncate: wire.truncate,
        truncationDirection: wire.truncation_direction,
      },
      { query: 'query', documents: documents.name, topN: topN.name, rankFields: 'rank_fields' },
    )
  },

  formatRequest(request) {
    return definedEntries({
      query: request.query,
      documents: request.documents,
      top_n: request.topN,
      return_documents: request.returnDocuments,
      model: request.model,
      rank_fields: request.rankFields,
      max_tokens_per_doc: request.maxTokensPerDoc,
      max_chunks_per_doc: request.maxChunksPerDoc,
      raw_scores: request.rawScores,
      instruction: request.instruction,
      truncate: request.truncate,
      truncation_direction: request.truncationDirection,
    })
  },

  parseResponse(body, request) {
    const wire = parseWith(
      nativeResponseSchema,
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
    const wire: NativeWireResponse = {
      model: response.model ?? request.model ?? 'unknown',
      results: relevanceResults(response, request, documentAsObject),
    }
    if (response.usage?.totalTokens !== undefined) wire.usage = { total_tokens: response.usage.totalTokens }
    return wire
  },
  // formatResponse's text, field for field (format-response-json.test.ts holds the two to it).
  formatResponseJson: modelResultsUsageJson,

  formatError(error: RerankError): NativeWireError {
    const body: NativeWireError = { error: { code: error.code, message: error.publicMessage } }
    if (error.param !== undefined) body.error.param = error.param
    if (error.publicDetails !== undefined) body.error.details = error.publicDetails
    return body
  },
}
