import {
  type DecoderPromptTemplate,
  documentText,
  RerankError,
  type RerankRequest,
} from '@rerank-kit/protocol'
import type { ScheduledItem } from '../batching/batch-scheduler'
import { boundedEncode } from './bounded-encode'
import { chunkDocument, chunkTokensNeeded } from './chunking'
import type { CutRules } from './cut-rules'
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

/** What the encoders need of a tokenizer (LoadedTokenizer has it). */
export interface TextTokenizer {
  encode: EncodeText
  /** Most characters one token covers: texts are cut by characters before tokenizing (boundedEncode). */
  maxTokenChars: number
  /** Where texts can be cut exactly (cutRulesOf); only a plain space when absent. */
  cutRules?: CutRules
}

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
 *
 * Texts are cut by characters before they are tokenized (boundedEncode), to the ids that can matter: the
 * query's first `budget`, a document's first (or last) `max(budget, maxChunks x chunk) + 1`. With at least
 * `budget + 1` ids of a document its share of the budget is the same as with all of them.
 */
export async function encodeEncoderPairs(
  request: RerankRequest,
  tokenizer: TextTokenizer,
  layout: PairLayout,
  maxLength: number,
  defaults: EncodeDefaults,
): Promise<EncodedRequest> {
  const { encode, maxTokenChars: charsPerToken, cutRules: rules } = tokenizer
  const budget = maxLength - specialTokenCount(layout)
  const settings = chunkSettings(request, defaults)
  const queryCut = boundedEncode(request.query, encode, {
    needed: budget,
    direction: 'right',
    charsPerToken,
    rules,
  })
  const queryIds = queryCut.ids
  if (queryIds.length >= budget && !settings.truncate) {
    throw new RerankError(
      'invalid_request',
      `The query has ${queryCut.cut ? 'at least ' : ''}${queryIds.length} tokens, over the model's limit`,
      {
        param: 'query',
      },
    )
  }
  const longestChunk = Math.max(1, Math.min(budget, request.maxTokensPerDoc ?? Number.POSITIVE_INFINITY))
  const documentNeeded = Math.max(budget + 1, chunkTokensNeeded(longestChunk, settings.maxChunks))
  const items: PairItem[] = []
  const pause = createYielder()
  for (const [index, document] of request.documents.entries()) {
    await pause()
    const { ids: documentIds, cut } = boundedEncode(documentText(document, request.rankFields), encode, {
      needed: documentNeeded,
      direction: settings.direction,
      charsPerToken,
      rules,
    })
    const wanted = Math.min(documentIds.length, request.maxTokensPerDoc ?? Number.POSITIVE_INFINITY)
    const queryKeep = Math.min(queryIds.length, Math.max(Math.ceil(budget / 2), budget - wanted))
    const query = queryIds.slice(0, queryKeep)
    const chunkTokens = Math.max(
      1,
      Math.min(budget - queryKeep, request.maxTokensPerDoc ?? Number.POSITIVE_INFINITY),
    )
    for (const chunk of chunkDocument(documentIds, { chunkTokens, ...settings }, index, cut)) {
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
 * Long texts are cut by characters before they are tokenized (boundedEncode), as for encoders.
 */
export async function encodeDecoderPrompts(
  request: RerankRequest,
  tokenizer: TextTokenizer,
  template: DecoderPromptTemplate,
  maxLength: number,
  defaults: EncodeDefaults,
): Promise<EncodedRequest> {
  const { encode, maxTokenChars: charsPerToken, cutRules: rules } = tokenizer
  const settings = chunkSettings(request, defaults)
  const tailIds = encode(template.tail)
  // A query with this many tokens (a margin over maxLength for what the template joins to its ends) never
  // fits: the search below keeps a shorter prefix of it either way, and it searches this cut text only.
  let query = boundedEncode(request.query, encode, {
    needed: maxLength + 64,
    direction: 'right',
    charsPerToken,
    rules,
  }).text
  const searched = query
  let head = template.head(query, request.instruction)
  let headIds = encode(head.trimEnd())
  // A query so long that no document would fit: keep the longest prefix of it that leaves room.
  const minimumDocument = Math.min(64, Math.floor(maxLength / 4))
  if (headIds.length + tailIds.length + minimumDocument > maxLength) {
    if (!settings.truncate) {
      throw new RerankError('invalid_request', 'The query is too long for the model', { param: 'query' })
    }
    let low = 0
    let high = searched.length
    // Each step tokenizes up to the cut query (tens of thousands of characters): yield between them.
    const step = createYielder()
    while (low < high) {
      await step()
      const middle = Math.ceil((low + high) / 2)
      const candidate = encode(template.head(searched.slice(0, middle), request.instruction).trimEnd())
      if (candidate.length + tailIds.length + minimumDocument <= maxLength) low = middle
      else high = middle - 1
    }
    query = searched.slice(0, low)
    head = template.head(query, request.instruction)
    headIds = encode(head.trimEnd())
  }
  const glue = head.slice(head.trimEnd().length)
  const budget = maxLength - headIds.length - tailIds.length
  const chunkTokens = Math.max(1, Math.min(budget, request.maxTokensPerDoc ?? Number.POSITIVE_INFINITY))
  const needed = chunkTokensNeeded(chunkTokens, settings.maxChunks)
  const items: PairItem[] = []
  const pause = createYielder()
  for (const [index, document] of request.documents.entries()) {
    await pause()
    const { ids: documentIds, cut } = boundedEncode(documentText(document, request.rankFields), encode, {
      needed,
      direction: settings.direction,
      charsPerToken,
      lead: glue,
      rules,
    })
    for (const chunk of chunkDocument(documentIds, { chunkTokens, ...settings }, index, cut)) {
      const ids = [...headIds, ...chunk, ...tailIds]
      items.push({ ids, length: ids.length, document: index })
    }
  }
  return { items }
}
