import * as z from 'zod'
import { hasRankableText } from './document-text'
import { RerankError } from './errors/rerank-error'
import {
  documentList,
  flag,
  modelField,
  optional,
  positiveInt,
  queryField,
  rankFieldsField,
  textField,
  truncationDirectionField,
} from './formats/shared-fields'
import { parseWith } from './formats/zod-issues'
import type { RerankDocument, RerankDocumentObject, RerankRequest } from './rerank-request'

/** How the family being parsed names the canonical fields, so errors point at what the caller sent. */
export interface FieldNames {
  query: string
  documents: string
  topN: string
  rankFields: string
}

export const canonicalFieldNames: FieldNames = {
  query: 'query',
  documents: 'documents',
  topN: 'topN',
  rankFields: 'rankFields',
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * JSON can carry lone UTF-16 surrogates ("\ud800") that no tokenizer can encode; they become U+FFFD.
 * Control characters are ordinary text and are kept.
 */
export function toWellFormed(text: string): string {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed
  if (native?.call(text)) return text
  return text.replace(loneSurrogate, '\uFFFD')
}

function cleanDocument(document: RerankDocument): RerankDocument {
  if (typeof document === 'string') return toWellFormed(document)
  // A fresh object with own data properties only: a "__proto__" key from JSON.parse must never become a
  // prototype, whatever the caller does with the document later.
  const clean: RerankDocumentObject = {}
  for (const [key, value] of Object.entries(document)) {
    if (key === '__proto__') continue
    clean[key] = key === 'text' && typeof value === 'string' ? toWellFormed(value) : value
  }
  return clean
}

/**
 * The documents with lone surrogates replaced and objects copied clean. Plain well-formed strings, what
 * almost every request sends, need nothing: their array is kept (drafts come from parsers, which made it).
 */
function cleanDocuments(documents: readonly RerankDocument[]): RerankDocument[] {
  for (const document of documents) {
    if (typeof document !== 'string' || toWellFormed(document) !== document)
      return documents.map(cleanDocument)
  }
  return documents as RerankDocument[]
}

/**
 * How deep a document object may nest. Its fields are echoed and rendered with JSON.stringify, which recurses:
 * a document nested a few thousand levels deep (a few KB of brackets) overflowed the stack while the answer
 * was being written, outside any error handling, and took the server down.
 */
export const maxDocumentDepth = 64

/** True when `value` nests deeper than `limit` levels; iterative, so the check itself cannot overflow. */
function nestsDeeperThan(value: object, limit: number): boolean {
  const stack: [object, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!
    if (depth > limit) return true
    for (const child of Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}

function invalid(message: string, param: string): never {
  throw new RerankError('invalid_request', message, { param })
}

/**
 * The rules every family shares, applied after its own field mapping: non-empty query and documents, every
 * document has text to score, `topN` clamped to the list, well-formed strings, and no undefined keys. The
 * draft's documents array is kept when no document needs cleaning: pass one the caller will not change.
 */
export function finalizeRequest(
  draft: RerankRequest,
  names: FieldNames = canonicalFieldNames,
): RerankRequest {
  if (draft.query.trim() === '') invalid(`Invalid request: ${names.query} must not be empty`, names.query)
  if (draft.documents.length === 0) {
    invalid(`Invalid request: ${names.documents} must not be empty`, names.documents)
  }
  const rankFields = draft.rankFields
  draft.documents.forEach((document, index) => {
    if (typeof document === 'object' && nestsDeeperThan(document, maxDocumentDepth)) {
      const param = `${names.documents}.${index}`
      invalid(`Invalid request: ${param} nests deeper than ${maxDocumentDepth} levels`, param)
    }
    if (hasRankableText(document, rankFields)) return
    const param = `${names.documents}.${index}`
    if (typeof document === 'object' && 'image' in document && !('text' in document)) {
      invalid(`Invalid request: ${param}: image documents are not supported, send text`, param)
    }
    if (rankFields && rankFields.length > 0) {
      invalid(
        `Invalid request: ${param} has none of the ${names.rankFields} (${rankFields.join(', ')})`,
        param,
      )
    }
    invalid(
      `Invalid request: ${param} needs a string text field (or name its fields in ${names.rankFields})`,
      param,
    )
  })

  const request: RerankRequest = {
    query: toWellFormed(draft.query),
    documents: cleanDocuments(draft.documents),
  }
  if (draft.topN !== undefined) request.topN = Math.min(draft.topN, draft.documents.length)
  // Field by field, not a loop over key names: a keyed copy was a megamorphic load and store per field on
  // every request.
  if (draft.returnDocuments !== undefined) request.returnDocuments = draft.returnDocuments
  if (draft.model !== undefined) request.model = draft.model
  if (draft.rankFields !== undefined) request.rankFields = draft.rankFields
  if (draft.maxTokensPerDoc !== undefined) request.maxTokensPerDoc = draft.maxTokensPerDoc
  if (draft.maxChunksPerDoc !== undefined) request.maxChunksPerDoc = draft.maxChunksPerDoc
  if (draft.rawScores !== undefined) request.rawScores = draft.rawScores
  if (draft.instruction !== undefined) request.instruction = draft.instruction
  if (draft.truncate !== undefined) request.truncate = draft.truncate
  if (draft.truncationDirection !== undefined) request.truncationDirection = draft.truncationDirection
  return request
}

/** The canonical request as a schema: validates requests built in code (camelCase, no wire aliases). */
export const rerankRequestSchema = z.object({
  query: queryField,
  documents: documentList,
  topN: positiveInt,
  returnDocuments: flag,
  model: modelField,
  rankFields: rankFieldsField,
  maxTokensPerDoc: positiveInt,
  maxChunksPerDoc: positiveInt,
  rawScores: flag,
  instruction: optional(textField()),
  truncate: flag,
  truncationDirection: truncationDirectionField,
})

/**
 * Validates a request built in code, with the same rules as the wire parsers. Engines call it on entry so a
 * programmatic caller gets the same `invalid_request` errors as an HTTP one.
 */
export function parseRerankRequest(value: unknown): RerankRequest {
  const draft = parseWith(rerankRequestSchema, value, 'request', 'Invalid request: expected an object')
  return finalizeRequest(draft as RerankRequest)
}
