import { finalizeRequest } from '../../canonical-request'
import type { RerankRequest } from '../../rerank-request'
import type { RerankFormat } from '../format'
import { definedEntries, eitherAlias } from '../request-helpers'
import { checkedResults, echoedDocument, responseFromWire } from '../response-helpers'
import { parseWith } from '../zod-issues'
import {
  type MixedbreadWireError,
  type MixedbreadWireRequest,
  type MixedbreadWireResponse,
  mixedbreadRequestSchema,
  mixedbreadResponseSchema,
} from './mixedbread-api'

export const mixedbreadFormat: RerankFormat<MixedbreadWireRequest, MixedbreadWireResponse> = {
  name: 'mixedbread',
  defaultPath: '/v1/reranking',
  requestSchema: mixedbreadRequestSchema,
  responseSchema: mixedbreadResponseSchema,

  parseRequest(body) {
    const wire = parseWith(
      mixedbreadRequestSchema,
      body,
      'request',
      'Invalid request: the body must be a JSON object',
    )
    const input = eitherAlias<RerankRequest['documents']>(wire, 'input', 'documents', { required: true })
    return finalizeRequest(
      {
        query: wire.query,
        documents: input.value!,
        topN: wire.top_k,
        returnDocuments: wire.return_input ?? false,
        model: wire.model,
        rankFields: wire.rank_fields,
      },
      { query: 'query', documents: input.name, topN: 'top_k', rankFields: 'rank_fields' },
    )
  },

  formatRequest(request) {
    return definedEntries({
      model: request.model,
      query: request.query,
      input: request.documents,
      top_k: request.topN,
      return_input: request.returnDocuments,
      rank_fields: request.rankFields,
    })
  },

  parseResponse(body, request) {
    const wire = parseWith(
      mixedbreadResponseSchema,
      body,
      'response',
      'Invalid response from the reranker: expected an object',
    )
    return responseFromWire(
      wire.data.map((item) => ({ index: item.index, score: item.score, document: item.input })),
      { model: wire.model, usage: { totalTokens: wire.usage?.total_tokens ?? wire.usage?.prompt_tokens } },
      request,
    )
  },

  formatResponse(response, request) {
    const wire: MixedbreadWireResponse = {
      object: 'list',
      model: response.model ?? request.model ?? 'unknown',
      data: checkedResults(response, request).map((result) => {
        const document = echoedDocument(result, request)
        return document === undefined
          ? { index: result.index, score: result.score }
          : { index: result.index, score: result.score, input: document }
      }),
      // Both SDKs type `top_k` as always present: without one asked for, every document was ranked.
      top_k: request.topN ?? request.documents.length,
      return_input: request.returnDocuments ?? false,
    }
    const tokens = response.usage?.totalTokens
    if (tokens !== undefined) wire.usage = { prompt_tokens: tokens, total_tokens: tokens }
    return wire
  },

  formatError: (error): MixedbreadWireError => ({ detail: error.publicMessage }),
}
