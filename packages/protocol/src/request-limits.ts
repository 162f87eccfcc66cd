import { documentText } from './document-text'
import { RerankError } from './errors/rerank-error'
import type { RerankRequest } from './rerank-request'

/** Per-request size limits a server (or an engine) enforces on top of the format rules. */
export interface RerankRequestLimits {
  maxDocuments?: number
  /** In characters (UTF-16 code units), before tokenization. Also bounds a decoder's `instruction`. */
  maxQueryLength?: number
  /** In characters, of the text that is ranked (documentText: `rank_fields` joined for objects). */
  maxDocumentLength?: number
}

/**
 * Refuses requests over the limits with `payload_too_large` naming the limit. Oversized inputs are refused
 * up front, before any work is queued, so one huge request cannot starve the others.
 */
export function checkRequestLimits(request: RerankRequest, limits: RerankRequestLimits): void {
  const { maxDocuments, maxQueryLength, maxDocumentLength } = limits
  if (maxDocuments !== undefined && request.documents.length > maxDocuments) {
    throw new RerankError(
      'payload_too_large',
      `Too many documents: ${request.documents.length}, the limit is ${maxDocuments} per request`,
      { param: 'documents' },
    )
  }
  if (maxQueryLength !== undefined && request.query.length > maxQueryLength) {
    throw new RerankError(
      'payload_too_large',
      `The query has ${request.query.length} characters, the limit is ${maxQueryLength}`,
      { param: 'query' },
    )
  }
  // A decoder's instruction is tokenized with the query, and as long a text can come in it.
  const instruction = request.instruction?.length ?? 0
  if (maxQueryLength !== undefined && instruction > maxQueryLength) {
    throw new RerankError(
      'payload_too_large',
      `The instruction has ${instruction} characters, the limit is ${maxQueryLength} (the query's)`,
      { param: 'instruction' },
    )
  }
  if (maxDocumentLength !== undefined) {
    request.documents.forEach((document, index) => {
      const length = documentText(document, request.rankFields).length
      if (length > maxDocumentLength) {
        throw new RerankError(
          'payload_too_large',
          `Document ${index} has ${length} characters, the limit is ${maxDocumentLength}`,
          { param: `documents.${index}` },
        )
      }
    })
  }
}

/** `model_not_found` (404) naming the model asked for and the ones served. */
export function modelNotFound(model: string, served: readonly string[]): RerankError {
  const list = served.length > 0 ? served.join(', ') : 'none'
  return new RerankError('model_not_found', `Model "${model}" is not served here. Served models: ${list}`, {
    param: 'model',
  })
}
