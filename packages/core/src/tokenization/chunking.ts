import { RerankError } from '@rerank-kit/protocol'

export interface ChunkPlan {
  /** Tokens per chunk (the document's budget once the query and special tokens are counted). */
  chunkTokens: number
  maxChunks: number
  overlap: number
  truncate: boolean
  direction: 'left' | 'right'
}

/**
 * Splits a document's token ids into the chunks that get scored. One chunk is plain truncation; several are
 * Cohere's semantics (each scored with the full query, the document scoring the max over its chunks).
 * `left` keeps the end of the document instead of its start. Only the first (`left`: last)
 * `maxChunks * chunkTokens + 1` ids are read, so a cut text (see chunkTokensNeeded) gives the same chunks.
 */
export function chunkDocument(
  ids: number[],
  plan: ChunkPlan,
  documentIndex: number,
  /** True when `ids` come from a cut text (boundedEncode): their count is then a lower bound. */
  cut = false,
): number[][] {
  const { chunkTokens, maxChunks, overlap } = plan
  if (ids.length <= chunkTokens) return [ids]
  if (!plan.truncate && maxChunks === 1) {
    throw new RerankError(
      'invalid_request',
      `Document ${documentIndex} has ${cut ? 'at least ' : ''}${ids.length} tokens, over the ${chunkTokens} that fit with the query; ` +
        'allow truncation or chunking (max_chunks_per_doc)',
      { param: `documents.${documentIndex}` },
    )
  }
  const source = plan.direction === 'left' ? [...ids].reverse() : ids
  const step = Math.max(1, chunkTokens - overlap)
  const chunks: number[][] = []
  for (let start = 0; chunks.length < maxChunks && start < source.length; start += step) {
    const chunk = source.slice(start, start + chunkTokens)
    chunks.push(plan.direction === 'left' ? chunk.reverse() : chunk)
    if (start + chunkTokens >= source.length) break
  }
  return chunks
}

/** How many ids of a document (its first, or last with `left`) decide its chunks, whatever its length. */
export function chunkTokensNeeded(chunkTokens: number, maxChunks: number): number {
  return maxChunks * chunkTokens + 1
}
