import { documentText } from '../document-text'
import { RerankError } from '../errors/rerank-error'
import type { RerankDocument, RerankDocumentObject, RerankRequest } from '../rerank-request'
import {
  compareResults,
  type RerankResponse,
  type RerankResult,
  type RerankUsage,
  sortResults,
} from '../rerank-response'

// Shared by the families' formatResponse / parseResponse so that sorting, score checks, document echo and
// index checks are written once.

/**
 * The results a response may put on the wire: sorted, cut to `topN`, every score finite and, unless raw
 * scores were asked for, in [0, 1]. A violation is our bug, so it is an `internal` error, never a bad body.
 */
export function checkedResults(response: RerankResponse, request: RerankRequest): RerankResult[] {
  for (const result of response.results) {
    const inRange = request.rawScores || (result.score >= 0 && result.score <= 1)
    if (!Number.isFinite(result.score) || !inRange) {
      throw new RerankError(
        'internal',
        `Score ${result.score} of document ${result.index} is not a valid score`,
      )
    }
  }
  // Engines hand results over sorted already (rankScores): a scan then replaces the copy and the sort.
  const results = response.results
  let ordered = true
  for (let i = 1; i < results.length && ordered; i++)
    ordered = compareResults(results[i - 1]!, results[i]!) <= 0
  let sorted = results
  if (!ordered) {
    sorted = [...results]
    sortResults(sorted)
  }
  return request.topN === undefined || request.topN >= sorted.length ? sorted : sorted.slice(0, request.topN)
}

/** The document to echo for a result, or undefined when the request did not ask for documents. */
export function echoedDocument(result: RerankResult, request: RerankRequest): RerankDocument | undefined {
  if (!request.returnDocuments) return undefined
  return result.document ?? request.documents[result.index]
}

/** Cohere/Jina/native shape: strings become `{text}`, objects are echoed with all their fields. */
export function documentAsObject(document: RerankDocument): RerankDocumentObject {
  return typeof document === 'string' ? { text: document } : document
}

/** TEI/Infinity/Voyage shape: the document as a bare string. */
export function documentAsString(document: RerankDocument, request: RerankRequest): string {
  return documentText(document, request.rankFields)
}

/** Cohere bills one search unit per 100 documents (a real count, never a constant). */
export function searchUnitsOf(response: RerankResponse, request: RerankRequest): number {
  return response.usage?.searchUnits ?? Math.max(1, Math.ceil(request.documents.length / 100))
}

export function newResponseId(): string {
  return globalThis.crypto.randomUUID()
}

export interface WireResult {
  index: number
  score: number
  /** Present when the server echoed a document. */
  document?: RerankDocument | null | undefined
}

function fromWireDocument(document: RerankDocument): RerankDocument {
  // A `{text}` object is how most formats echo a plain-string document.
  if (
    typeof document === 'object' &&
    Object.keys(document).length === 1 &&
    typeof document.text === 'string'
  ) {
    return document.text
  }
  return document
}

/**
 * Builds the canonical response from a server's results: checks indexes (integers, unique, inside the
 * request), sorts, applies `topN` (for formats whose server has none), and attaches documents.
 */
export function responseFromWire(
  items: readonly WireResult[],
  parts: { id?: string | undefined; model?: string | undefined; usage?: RerankUsage | undefined },
  request?: RerankRequest,
): RerankResponse {
  const seen = new Set<number>()
  const results: RerankResult[] = items.map((item, position) => {
    if (seen.has(item.index)) {
      throw new RerankError(
        'upstream_error',
        `Invalid response from the reranker: index ${item.index} repeats`,
        {
          param: `results.${position}.index`,
        },
      )
    }
    if (request && item.index >= request.documents.length) {
      throw new RerankError(
        'upstream_error',
        `Invalid response from the reranker: index ${item.index} is outside the ${request.documents.length} documents sent`,
        { param: `results.${position}.index` },
      )
    }
    seen.add(item.index)
    const result: RerankResult = { index: item.index, score: item.score }
    if (request) {
      if (request.returnDocuments) result.document = request.documents[item.index] as RerankDocument
    } else if (item.document !== undefined && item.document !== null) {
      result.document = fromWireDocument(item.document)
    }
    return result
  })
  sortResults(results)
  const response: RerankResponse = {
    results: request?.topN === undefined ? results : results.slice(0, request.topN),
  }
  if (parts.id !== undefined) response.id = parts.id
  const model = parts.model ?? request?.model
  if (model !== undefined) response.model = model
  if (parts.usage && Object.values(parts.usage).some((value) => value !== undefined)) {
    response.usage = Object.fromEntries(
      Object.entries(parts.usage).filter(([, value]) => value !== undefined),
    )
  }
  return response
}

/** `{index, relevance_score, document?}` items, the result shape of most formats. */
export function relevanceResults<D>(
  response: RerankResponse,
  request: RerankRequest,
  toWire: (document: RerankDocument) => D,
): { index: number; relevance_score: number; document?: D }[] {
  return checkedResults(response, request).map((result) => {
    const document = echoedDocument(result, request)
    return document === undefined
      ? { index: result.index, relevance_score: result.score }
      : { index: result.index, relevance_score: result.score, document: toWire(document) }
  })
}

/**
 * The JSON text of `relevanceResults(response, request, documentAsObject)`, written directly: JSON.stringify
 * walks every result object (and they must be made first), which cost more than all the rest of a stub rerank
 * route. Numbers are written by the same algorithm JSON.stringify uses, and scores are finite
 * (checkedResults), so the text is identical; so is that of echoed string documents, quoted by jsonString.
 * (Joining an array of parts instead measured no faster and allocated more.)
 */
export function relevanceResultsJson(response: RerankResponse, request: RerankRequest): string {
  const results = checkedResults(response, request)
  let json = '['
  for (let i = 0; i < results.length; i++) {
    const result = results[i]!
    const document = echoedDocument(result, request)
    json += `${i === 0 ? '' : ','}{"index":${result.index},"relevance_score":${result.score}`
    if (document === undefined) json += '}'
    // documentAsObject's `{text}` of a string, quoted without the stringifier (see jsonString).
    else if (typeof document === 'string') json += `,"document":{"text":${jsonString(document)}}}`
    else json += `,"document":${JSON.stringify(document)}}`
  }
  return `${json}]`
}

/**
 * `JSON.stringify(text)`: ids and model names seldom need an escape, and quoting them then costs a fraction
 * of the stringifier's set-up, which was a measurable part of a stub rerank route's answer. Anything JSON
 * may escape (quote, backslash, control characters, surrogates, paired or lone) is left to JSON.stringify.
 */
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) {
      return JSON.stringify(text)
    }
  }
  return `"${text}"`
}

/** `,"usage":{"total_tokens":n}` when the tokens were counted, else nothing: the tail of several answers. */
export function usageJson(response: RerankResponse): string {
  const tokens = response.usage?.totalTokens
  return tokens === undefined ? '' : `,"usage":{"total_tokens":${tokens}}`
}

/** `{"model", "results", "usage"?}` as JSON text: the answer of the native and Jina formats. */
export function modelResultsUsageJson(response: RerankResponse, request: RerankRequest): string {
  const model = jsonString(response.model ?? request.model ?? 'unknown')
  return `{"model":${model},"results":${relevanceResultsJson(response, request)}${usageJson(response)}}`
}
