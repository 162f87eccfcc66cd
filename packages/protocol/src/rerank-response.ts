import type { RerankDocument, RerankRequest } from './rerank-request'

export interface RerankResult {
  /** Position of the document in the request's `documents`. */
  index: number
  /** Relevance in [0, 1], or the raw logit when `rawScores` was asked for. */
  score: number
  document?: RerankDocument
}

export interface RerankUsage {
  /** Tokens actually fed to the model (query and documents, special tokens included). */
  totalTokens?: number
  /** Cohere's billing unit: one query with up to 100 documents (or chunks). */
  searchUnits?: number
}

/**
 * Where the time of one request went inside the reranker, in milliseconds (fractional, `performance.now()`
 * differences). Measured by engines that know (a LocalReranker's); each part is absent when not measured. The
 * parts do not overlap: tokenizing, then waiting in the batch queue, then running batches. The HTTP layer sends
 * them as headers (`x-tokenization-time`, `x-queue-time`, `x-inference-time`, `server-timing`); no wire format
 * writes them into a body.
 */
export interface RerankTimings {
  /** Turning the request into token pairs (including waits for the tokenizer's time slices). */
  tokenizationMs?: number
  /** From entering the batch queue (after tokenizing) until the first batch with one of its pairs started. */
  queueMs?: number
  /**
   * From the start of its first batch to the end of its last one: wall-clock time its pairs were being run
   * (shared with the other requests batched with them, gaps between its batches included).
   */
  inferenceMs?: number
}

/** The canonical rerank response: results sorted by score (descending), ties by index (ascending). */
export interface RerankResponse {
  id?: string
  model?: string
  results: RerankResult[]
  usage?: RerankUsage
  /** Server-side timing of this request, when the reranker measured it (never written into a wire body). */
  timings?: RerankTimings
  /** Which deployment of a router answered, after how many attempts (sent as headers, never in a body). */
  routing?: RerankRouting
}

/** A router's answer: the id of the deployment that answered (never its URL) and the attempts it took. */
export interface RerankRouting {
  deployment: string
  /** Attempts made, the answering one included: 1 when the first deployment tried answered. */
  attempts: number
}

/** Score descending, then index ascending: the one order every response uses. */
export function compareResults(a: RerankResult, b: RerankResult): number {
  return b.score - a.score || a.index - b.index
}

/**
 * Sorts results in place by `compareResults`. Short lists by insertion: Array.prototype.sort first copies
 * into a work array, which for ten results allocated more than the results themselves.
 */
export function sortResults(results: RerankResult[]): void {
  if (results.length > 16) {
    results.sort(compareResults)
    return
  }
  for (let i = 1; i < results.length; i++) {
    const item = results[i]!
    let j = i - 1
    while (j >= 0 && compareResults(results[j]!, item) > 0) {
      results[j + 1] = results[j]!
      j--
    }
    results[j + 1] = item
  }
}

/**
 * Builds a response from one score per document (in request order): sorts, applies `topN`, and attaches the
 * documents when asked. Local engines and clients of formats without server-side top_n share it.
 */
export function rankScores(
  request: Pick<RerankRequest, 'documents' | 'topN' | 'returnDocuments'>,
  scores: readonly number[],
): RerankResult[] {
  const results: RerankResult[] = scores.map((score, index) => ({ index, score }))
  sortResults(results)
  const kept = request.topN === undefined ? results : results.slice(0, request.topN)
  if (request.returnDocuments) {
    for (const result of kept) result.document = request.documents[result.index] as RerankDocument
  }
  return kept
}
