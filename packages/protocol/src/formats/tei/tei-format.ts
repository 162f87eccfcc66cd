import { finalizeRequest } from '../../canonical-request'
import type { RerankError } from '../../errors/rerank-error'
import type { RerankRequest } from '../../rerank-request'
import type { RerankFormat } from '../format'
import { definedEntries, eitherAlias } from '../request-helpers'
import { checkedResults, documentAsString, echoedDocument, responseFromWire } from '../response-helpers'
import { parseWith } from '../zod-issues'
import {
  type TeiErrorType,
  type TeiWireError,
  type TeiWireRequest,
  type TeiWireResponse,
  teiRequestSchema,
  teiResponseSchema,
} from './tei-api'

function teiErrorType(error: RerankError): TeiErrorType {
  if (error.code === 'overloaded' || error.code === 'rate_limited') return 'overloaded'
  return error.status < 500 ? 'validation' : 'backend'
}

export const teiFormat: RerankFormat<TeiWireRequest, TeiWireResponse> = {
  name: 'tei',
  defaultPath: '/rerank',
  requestSchema: teiRequestSchema,
  responseSchema: teiResponseSchema,

  parseRequest(body) {
    const wire = parseWith(
      teiRequestSchema,
      body,
      'request',
      'Invalid request: the body must be a JSON object',
    )
    const texts = eitherAlias<RerankRequest['documents']>(wire, 'texts', 'documents', { required: true })
    return finalizeRequest(
      {
        query: wire.query,
        documents: texts.value!,
        returnDocuments: wire.return_text ?? false,
        rawScores: wire.raw_scores,
        truncate: wire.truncate,
        truncationDirection: wire.truncation_direction,
      },
      { query: 'query', documents: texts.name, topN: 'top_n', rankFields: 'rank_fields' },
    )
  },

  formatRequest(request) {
    return definedEntries({
      query: request.query,
      texts: request.documents.map((document) => documentAsString(document, request)),
      truncate: request.truncate,
      truncation_direction: request.truncationDirection,
      raw_scores: request.rawScores,
      return_text: request.returnDocuments,
    })
  },

  // TEI has no top_n: with the request given, topN is applied here, on the client side.
  parseResponse(body, request) {
    const wire = parseWith(
      teiResponseSchema,
      body,
      'response',
      'Invalid response from the reranker: expected an array',
    )
    return responseFromWire(
      wire.map((item) => ({ index: item.index, score: item.score, document: item.text })),
      {},
      request,
    )
  },

  formatResponse(response, request) {
    return checkedResults(response, request).map((result) => {
      const document = echoedDocument(result, request)
      return document === undefined
        ? { index: result.index, score: result.score }
        : { index: result.index, score: result.score, text: documentAsString(document, request) }
    })
  },

  formatError: (error): TeiWireError => ({ error: error.publicMessage, error_type: teiErrorType(error) }),
}
