import { type CutRules, cutsBetween, cutsLongWord, plainCutRules } from './cut-rules'

/**
 * Token ids of only as much of a text as the model can use. Tokenizing a 10 MB document whole, to keep its
 * first 500 tokens, held the event loop for seconds and took hundreds of MB: the text is cut by characters
 * first, and the characters tokenized are bounded whatever the text (a few times the cap below).
 *
 * The cut is exact where it can be: the kept ids are those of the whole text, then truncated. It falls on a
 * boundary where the tokenizer starts a new piece that depends on nothing before it, nor (for a prefix) on
 * anything after it (cut-rules.ts: a plain space for every kind; punctuation, CJK and inside over-long words
 * for WordPiece; character-class changes for byte-level BPE), looked for between `span` and twice `span`
 * characters. `span` starts at `needed` typical tokens; while the piece gives fewer tokens than asked
 * (whitespace runs, unknown characters) it widens, so the answer never depends on that guess.
 *
 * A text with no such boundary in that window (one long "word": a base64 blob, CJK for BPE or Unigram, a URL)
 * gets a hard cut, verified: pieces cut at `span` and a quarter further are tokenized, and the cut is taken
 * when their first (`left`: last) ids agree past `needed`; else the span widens. This is exact in practice
 * (BPE and Unigram merges reach a few characters), not provably. At the cap (HARD_CUT_CHARS, or 4 x `needed`
 * x charsPerToken if more) the cut is taken as is: one word longer than that is cut inside it, and a text
 * whose first (last) cap characters hold fewer than `needed` tokens keeps those.
 */
export interface BoundedIds {
  ids: number[]
  /** The part of the text tokenized (without the lead): the whole text unless cut. */
  text: string
  /**
   * True when part of the text was left out: `ids` then holds at least `needed` ids (fewer only when the
   * text's first, or last, HARD_CUT_CHARS characters hold fewer), not the text's count.
   */
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
  /** Where the tokenizer can be cut exactly (cutRulesOf); the plain space rule when absent. */
  rules?: CutRules
}

/**
 * Characters of one piece past which a text with no verifiable cut is cut as is. Also below what makes
 * transformers.js's Unigram overflow the stack on one pre-token (131,072 CJK characters did).
 */
export const HARD_CUT_CHARS = 65_536

/** Characters per token of the first try (widened while the piece gives too few tokens). */
const TYPICAL_CHARS_PER_TOKEN = 4

/** Smallest window searched for an exact boundary, so short spans rarely need a hard cut. */
const MIN_WINDOW = 1024

/** A position moved off the middle of a surrogate pair (towards the longer piece). */
function onCodePoint(text: string, at: number, right: boolean): number {
  const low = text.charCodeAt(at)
  const high = text.charCodeAt(at - 1)
  const splits = low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff
  return splits ? at + (right ? 1 : -1) : at
}

/**
 * An exact cut whose piece has between `span` and `span + window` characters: the shortest such prefix
 * (`right`) or suffix (`left`). Only that window is scanned, by the regex engine (not a loop over characters);
 * backwards for a suffix, in growing slices, so a cut near the end of the window is found without reading it all.
 */
function exactCut(text: string, span: number, window: number, right: boolean, rules: CutRules) {
  // Inside an over-long WordPiece word: the shortest piece of all, when it qualifies.
  const shortest = onCodePoint(text, right ? span : text.length - span, right)
  if (cutsLongWord(text, shortest, right, rules)) return shortest
  if (right) return cutsBetween(text, span, span + window, rules)[0]
  const low = text.length - span - window
  const high = text.length - span
  for (let end = high, size = 1024; end >= low; end -= size, size *= 4) {
    const start = Math.max(low, end - size)
    const cuts = cutsBetween(text, start, end, rules)
    if (cuts.length > 0) return cuts[cuts.length - 1]
    if (start === low) break
  }
  return undefined
}

/** How many ids the two lists share from their start (`right`) or their end (`left`). */
function agreement(a: number[], b: number[], right: boolean): number {
  const count = Math.min(a.length, b.length)
  let same = 0
  while (same < count) {
    const i = right ? same : a.length - 1 - same
    const j = right ? same : b.length - 1 - same
    if (a[i] !== b[j]) break
    same++
  }
  return same
}

export function boundedEncode(
  text: string,
  encode: (text: string) => number[],
  options: BoundedEncodeOptions,
): BoundedIds {
  const { needed, direction, lead = '', rules = plainCutRules } = options
  const right = direction === 'right'
  const perToken = Math.max(1, options.charsPerToken)
  const whole = (all: string): BoundedIds => ({ ids: encode(lead + all), text: all, cut: false })
  // An unbounded number of characters per token never cuts (the behaviour of tokenizing whole texts).
  if (!Number.isFinite(perToken)) return whole(text)
  // The cap leaves room for what `needed` tokens can cover, so long chunked documents are not cut short.
  const cap = Math.max(HARD_CUT_CHARS, 4 * Math.max(1, needed) * perToken)
  const pieceAt = (at: number) => (right ? text.slice(0, at) : text.slice(at))
  const tokenize = (piece: string) => encode(right ? lead + piece : piece)
  // The first try assumes typical tokens, not the longest: a WordPiece bound of 100 characters per token would
  // tokenize 50,000 characters where 2,500 give the 512 tokens (up to 7 µs a character for base64-like words).
  let span = Math.max(1, needed) * Math.min(perToken, TYPICAL_CHARS_PER_TOKEN)
  for (;;) {
    const window = Math.max(span, MIN_WINDOW)
    if (text.length <= span + window) return whole(text)
    const at = exactCut(text, span, window, right, rules)
    let piece: string
    let ids: number[]
    if (at !== undefined) {
      piece = pieceAt(at)
      ids = tokenize(piece)
      if (ids.length >= needed) return { ids, text: piece, cut: true }
    } else {
      // No exact boundary: cut at `span` and a quarter further, and keep the ids both pieces agree on, past
      // the ids kept, so that they lie away from where the two pieces differ.
      piece = pieceAt(onCodePoint(text, right ? span : text.length - span, right))
      ids = tokenize(piece)
      const margin = Math.max(16, Math.ceil(needed / 4))
      if (ids.length >= needed + margin) {
        // Longer by a quarter: enough to show what the cut changes (merges reach a few characters).
        const longer = span + Math.max(MIN_WINDOW, Math.ceil(span / 4))
        const far = pieceAt(onCodePoint(text, right ? longer : text.length - longer, right))
        const agreed = agreement(ids, tokenize(far), right)
        if (agreed >= needed + margin) {
          return {
            ids: right ? ids.slice(0, agreed) : ids.slice(ids.length - agreed),
            text: piece,
            cut: true,
          }
        }
      }
    }
    // Nothing verifiable within the cap: the cut is taken as is (one "word" longer than it is cut inside).
    if (span >= cap) return { ids, text: piece, cut: true }
    // Wider: as wide as the tokens found so far say is needed, with a quarter to spare (at once when they
    // are few: unknown characters fused, an over-long word), or twice when they did not agree; within the cap.
    const growth = ids.length < needed ? (1.25 * needed) / Math.max(1, ids.length) : 2
    span = Math.min(cap, Math.ceil(span * Math.min(64, Math.max(1.5, growth))))
  }
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
