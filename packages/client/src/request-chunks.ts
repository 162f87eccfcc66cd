import { compareResults, type RerankRequest, type RerankResponse } from '@rerank-kit/protocol'

export interface RequestChunk {
  /** Index of the chunk's first document in the whole request. */
  offset: number
  request: RerankRequest
}

/**
 * Splits a request whose documents exceed a server's per-call limit. Chunks carry no `topN`: the best N of
 * the whole list can sit in any chunk, so it is applied after the merge.
 */
export function chunkRequest(request: RerankRequest, size: number): RequestChunk[] {
  if (request.documents.length <= size) return [{ offset: 0, request }]
  const { topN: _wholeListOnly, ...perChunk } = request
  const chunks: RequestChunk[] = []
  for (let offset = 0; offset < request.documents.length; offset += size) {
    chunks.push({
      offset,
      request: { ...perChunk, documents: request.documents.slice(offset, offset + size) },
    })
  }
  return chunks
}

/** The chunks' answers as one response: indexes shifted back, one sort, then the request's `topN`. */
export function mergeChunks(
  request: RerankRequest,
  parts: readonly { offset: number; response: RerankResponse }[],
): RerankResponse {
  if (parts.length === 1 && parts[0]!.offset === 0) return parts[0]!.response
  const results = parts
    .flatMap(({ offset, response }) =>
      response.results.map((result) => ({ ...result, index: result.index + offset })),
    )
    .sort(compareResults)
  const merged: RerankResponse = {
    results: request.topN === undefined ? results : results.slice(0, request.topN),
  }
  const first = parts[0]?.response
  if (first?.id !== undefined) merged.id = first.id
  if (first?.model !== undefined) merged.model = first.model
  const tokens = parts.map(({ response }) => response.usage?.totalTokens)
  if (tokens.every((count) => count !== undefined)) {
    merged.usage = { totalTokens: tokens.reduce((sum, count) => sum + count, 0) }
  }
  return merged
}
