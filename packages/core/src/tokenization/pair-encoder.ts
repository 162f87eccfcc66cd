import {
  type DecoderPromptTemplate,
  documentText,
  RerankError,
  type RerankRequest,
} from '@rerank-kit/protocol'
import type { ScheduledItem } from '../batching/batch-scheduler'
import { chunkDocument } from './chunking'
import { type PairLayout, specialTokenCount } from './pair-layout'
import { createYielder } from './yield-every'

/** One scored pair: the full input ids of (query, document chunk). */
export interface PairItem extends ScheduledItem {
  ids: number[]
  /** token_type_ids, for encoders whose graph takes them. */
  typeIds?: number[]
  /** The document this chunk belongs to. */
  document: number
}

export type EncodeText = (text: string) => number[]

export interface EncodeDefaults {
  /** Chunks per document when the request does not say (1 = truncate). */
  maxChunksPerDoc: number
  /** Tokens shared by consecutive chunks. */
  chunkOverlap: number
}

interface EncodedRequest {
  items: PairItem[]
}

function chunkSettings(request: RerankRequest, defaults: EncodeDefaults) {
  return {
    maxChunks: request.maxChunksPerDoc ?? defaults.maxChunksPerDoc,
    overlap: defaults.chunkOverlap,
    truncate: request.truncate ?? true,
    direction: request.truncationDirection ?? 'right',
  }
}

/**
 * Cross-encoders: `prefix query middle document suffix`. The budget left after the special tokens is shared
 * like Python's `longest_first`: a query up to half the budget is kept whole and the document takes the rest;
 * past that both are cut towards half. The closing separator always stays.
 */
export async function encodeEncoderPairs(
  request: RerankRequest,
  encode: EncodeText,
  layout: PairLayout,
  maxLength: number,
  defaults: EncodeDefaults,
): Promise<EncodedRequest> {
  const budget = maxLength - specialTokenCount(layout)
  const settings = chunkSettings(request, defaults)
  const queryIds = encode(request.query)
  if (queryIds.length >= budget && !settings.truncate) {
    throw new RerankError(
      'invalid_request',
      `The query has ${queryIds.length} tokens, over the model's limit`,
      {
        param: 'query',
      },
    )
  }
  const items: PairItem[] = []
  const pause = createYielder()
  for (const [index, document] of request.documents.entries()) {
    await pause()
    const documentIds = encode(documentText(document, request.rankFields))
    const wanted = Math.min(documentIds.length, request.maxTokensPerDoc ?? Number.POSITIVE_INFINITY)
    const queryKeep = Math.min(queryIds.length, Math.max(Math.ceil(budget / 2), budget - wanted))
    const query = queryIds.slice(0, queryKeep)
    const chunkTokens = Math.max(
      1,
      Math.min(budget - queryKeep, request.maxTokensPerDoc ?? Number.POSITIVE_INFINITY),
    )
    for (const chunk of chunkDocument(documentIds, { chunkTokens, ...settings }, index)) {
      const ids = [...layout.prefix, ...query, ...layout.middle, ...chunk, ...layout.suffix]
      const typeIds = [
        ...layout.prefix.map(() => layout.prefixType),
        ...query.map(() => layout.typeA),
        ...layout.middle.map(() => layout.middleType),
        ...chunk.map(() => layout.typeB),
        ...layout.suffix.map(() => layout.suffixType),
      ]
      items.push({ ids, typeIds, length: ids.length, document: index })
    }
  }
  return { items }
}

/**
 * Decoder rerankers: `head(query, instruction) document tail`. The head is tokenized without its trailing
 * space, which goes with the document (byte-level BPE attaches a space to the following word), so the ids
 * equal those of the whole prompt. Only the document is ever cut: the tail, where the model answers, survives.
 */
export async function encodeDecoderPrompts(
  request: RerankRequest,
  encode: EncodeText,
  template: DecoderPromptTemplate,
  maxLength: number,
  defaults: EncodeDefaults,
): Promise<EncodedRequest> {
  const settings = chunkSettings(request, defaults)
  const tailIds = encode(template.tail)
  let query = request.query
  let head = template.head(query, request.instruction)
  let headIds = encode(head.trimEnd())
  // A query so long that no document would fit: keep the longest prefix of it that leaves room.
  const minimumDocument = Math.min(64, Math.floor(maxLength / 4))
  if (headIds.length + tailIds.length + minimumDocument > maxLength) {
    if (!settings.truncate) {
      throw new RerankError('invalid_request', 'The query is too long for the model', { param: 'query' })
    }
    let low = 0
    let high = query.length
    while (low < high) {
      const middle = Math.ceil((low + high) / 2)
      const candidate = encode(template.head(request.query.slice(0, middle), request.instruction).trimEnd())
      if (candidate.length + tailIds.length + minimumDocument <= maxLength) low = middle
      else high = middle - 1
    }
    query = request.query.slice(0, low)
    head = template.head(query, request.instruction)
    headIds = encode(head.trimEnd())
  }
  const glue = head.slice(head.trimEnd().length)
  const budget = maxLength - headIds.length - tailIds.length
  const chunkTokens = Math.max(1, Math.min(budget, request.maxTokensPerDoc ?? Number.POSITIVE_INFINITY))
  const items: PairItem[] = []
  const pause = createYielder()
  for (const [index, document] of request.documents.entries()) {
    await pause()
    const documentIds = encode(glue + documentText(document, request.rankFields))
    for (const chunk of chunkDocument(documentIds, { chunkTokens, ...settings }, index)) {
      const ids = [...headIds, ...chunk, ...tailIds]
      items.push({ ids, length: ids.length, document: index })
    }
  }
  return { items }
}
