/**
 * Token ids of only as much of a text as the model can use. Tokenizing a 10 MB document whole, to keep its
 * first 500 tokens, held the event loop for seconds and took hundreds of MB: the text is cut by characters first.
 *
 * The cut is exact: the kept ids are identical to those of the whole text, then truncated. It falls on a
 * pre-tokenizer boundary (a plain space right after a non-space character), where every tokenizer we load
 * (WordPiece, byte-level BPE, Metaspace/Unigram) starts a new piece that depends on nothing before it, nor
 * (for a prefix) on anything after it. Its first position comes from the most characters one token can cover;
 * when the piece still gives fewer tokens than asked (whitespace runs, unknown characters), it is widened
 * (doubled) and tokenized again, so the answer never depends on that guess.
 */
export interface BoundedIds {
  ids: number[]
  /** The part of the text tokenized (without the lead): the whole text unless cut. */
  text: string
  /** True when part of the text was left out: `ids` then holds at least `needed` ids, not the text's count. */
  cut: boolean
}

export interface BoundedEncodeOptions {
  /** Ids wanted: the first ones (`right`), or the last ones (`left`). */
  needed: number
  direction: 'left' | 'right'
  /** Most characters one token can stand for (see maxTokenCharsOf); only sizes the first try. */
  charsPerToken: number
  /**
   * Text tokenized in front of the document (a prompt's trailing space, which byte-level BPE joins to the next
   * word). Kept on the whole text and on a prefix; a suffix goes without it, as it is never at the front.
   */
  lead?: string
}

/**
 * A boundary: a non-space character then a plain space (the cut falls before that space). Found by the regex
 * engine, not a loop over characters: a megabyte of spaces past the cut point must not cost a second.
 */
const boundaries = () => /\S /g

/** The end of the shortest prefix at least `from` long that ends on a boundary, if there is one. */
function prefixEnd(text: string, from: number): number | undefined {
  const boundary = boundaries()
  boundary.lastIndex = Math.max(0, from - 1)
  const match = boundary.exec(text)
  return match ? match.index + 1 : undefined
}

/** The start of the shortest suffix at least `from` long that starts on a boundary (its space), if any. */
function suffixStart(text: string, from: number): number | undefined {
  // The last boundary at or before `limit`, searched in windows growing backwards (the regex runs forwards).
  let end = text.length - from + 1
  for (let window = 65_536; end > 1; window *= 2) {
    const start = Math.max(0, end - window)
    const boundary = boundaries()
    const slice = text.slice(start, end)
    let last: number | undefined
    for (let match = boundary.exec(slice); match; match = boundary.exec(slice)) last = match.index
    if (last !== undefined) return start + last + 1
    if (start === 0) break
    // One character of overlap: a boundary across the windows' edge is found in the next one.
    end = start + 1
  }
  return undefined
}

export function boundedEncode(
  text: string,
  encode: (text: string) => number[],
  options: BoundedEncodeOptions,
): BoundedIds {
  const { needed, direction, lead = '' } = options
  let span = Math.max(1, needed) * Math.max(1, options.charsPerToken)
  while (text.length > span) {
    const at = direction === 'right' ? prefixEnd(text, span) : suffixStart(text, span)
    // No boundary past the span: only the whole text gives exact ids.
    if (at === undefined) break
    const piece = direction === 'right' ? text.slice(0, at) : text.slice(at)
    const ids = encode(direction === 'right' ? lead + piece : piece)
    if (ids.length >= needed) return { ids, text: piece, cut: true }
    span *= 2
  }
  return { ids: encode(lead + text), text, cut: false }
}

interface TokenizerModelJson {
  vocab?: Record<string, number> | [string, number][]
  max_input_chars_per_word?: number
}

/**
 * The most characters one token covers, read from tokenizer.json: its longest vocabulary entry (byte-level
 * entries are one character per byte, so at least the characters they cover), or WordPiece's longest word
 * before it becomes one unknown token. Only a first guess for boundedEncode (fused unknowns may cover more).
 */
export function maxTokenCharsOf(tokenizerJson: Record<string, unknown>): number {
  const model = (tokenizerJson.model ?? {}) as TokenizerModelJson
  let longest = model.max_input_chars_per_word ?? 1
  const vocab = model.vocab ?? {}
  const pieces = Array.isArray(vocab) ? vocab.map(([piece]) => piece) : Object.keys(vocab)
  for (const piece of pieces) longest = Math.max(longest, piece.length)
  const added = (tokenizerJson.added_tokens ?? []) as { content?: string }[]
  for (const token of added) longest = Math.max(longest, token.content?.length ?? 0)
  return longest
}
