import type { RerankDocument } from './rerank-request'

function fieldValueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null
}

/**
 * The text a model scores for a document. Strings are themselves; an object is its `text`, or with
 * `rankFields` its named fields as `field: value` lines in that order (Cohere's YAML-like rendering, which is
 * also how Cohere v2 expects structured documents to be sent). Fields an object lacks are skipped.
 */
export function documentText(document: RerankDocument, rankFields?: readonly string[]): string {
  if (typeof document === 'string') return document
  if (rankFields && rankFields.length > 0) {
    return rankFields
      .filter((field) => Object.hasOwn(document, field) && present(document[field]))
      .map((field) => `${field}: ${fieldValueText(document[field])}`)
      .join('\n')
  }
  return document.text ?? ''
}

/** True when `documentText` has something to score for this document (used by request validation). */
export function hasRankableText(document: RerankDocument, rankFields?: readonly string[]): boolean {
  if (typeof document === 'string') return true
  if (rankFields && rankFields.length > 0) {
    return rankFields.some((field) => Object.hasOwn(document, field) && present(document[field]))
  }
  return typeof document.text === 'string'
}
