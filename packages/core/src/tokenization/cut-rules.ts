/**
 * Where a text can be cut without changing its ids, for the tokenizer kinds we load (read from tokenizer.json).
 * A cut position p is exact when the ids of text[0:p] are the first ids of the text and those of text[p:] its
 * last ones: p falls between two pre-tokens whose normalization does not depend on each other.
 *
 * - Every kind: before a plain space that follows a non-space character (the space goes with the next word).
 * - WordPiece behind BertNormalizer + BertPreTokenizer: next to punctuation and CJK ideographs, which are words
 *   of their own. Neither side may be Case_Ignorable (JS lowercasing turns a Greek capital sigma into final ς
 *   by looking across such characters). And inside a word longer than max_input_chars_per_word, which is one
 *   [UNK] whatever its length, when the kept side alone is over that length.
 * - Byte-level BPE with the GPT-2 split regex (ByteLevel, use_regex), no normalizer or NFC: a change between
 *   letter, digit and other non-space character (marks excluded: NFC composes them), except after an
 *   apostrophe, which may open a contraction ('s, 'll).
 * Other kinds (Metaspace/Unigram, custom Split regexes) only get the plain space rule; a text without such a
 * boundary is cut by boundedEncode's verified hard cut.
 */
export interface CutRules {
  /** Source of a regex (flags `gv`) matching the text right before each exact cut (of a prefix or a suffix). */
  boundary: string
  /** UTF-16 units of text the regex reads on either side of a cut. */
  reach: number
  /** Contents of the added tokens: no cut falls inside one (they are matched before pre-tokenizing). */
  addedTokens: string[]
  /**
   * WordPiece: a word with more than `over - 1` characters is one [UNK], so a cut with `over` characters of
   * the class `char` (a regex source) on its kept side is exact. Checked at one position, not scanned for.
   */
  longWord?: { char: string; over: number }
}

const plainBoundary = String.raw`\S(?= )`

export const plainCutRules: CutRules = { boundary: plainBoundary, reach: 4, addedTokens: [] }

/** transformers.js's punctuation for BertPreTokenizer, and the ideographs BertNormalizer surrounds by spaces. */
const bertPunctuation = String.raw`\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E`
const cjk = String.raw`\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}`
const ignorable = String.raw`\p{Case_Ignorable}`

const wordPieceBoundary = [
  plainBoundary,
  String.raw`[[${bertPunctuation}${cjk}]--${ignorable}](?=[\S--${ignorable}])`,
  String.raw`[\S--${ignorable}](?=[[${bertPunctuation}${cjk}]--${ignorable}])`,
].join('|')

/**
 * Letters and digits that no normalization step removes, joins to a boundary or makes case-ignorable: each
 * counts as at least one character of the normalized word, and a run of them is inside one word.
 */
const wordRunChar = String.raw`[[\p{L}\p{N}]--${ignorable}--[${cjk}]]`

const other = String.raw`[\S--\p{L}--\p{N}--\p{M}]`
const byteLevelBoundary = [
  plainBoundary,
  String.raw`\p{L}(?=\p{N}|${other})`,
  String.raw`\p{N}(?=\p{L}|${other})`,
  String.raw`[${other}--[']](?=[\p{L}\p{N}])`,
].join('|')

interface TokenizerJson {
  normalizer?: { type?: string } | null
  pre_tokenizer?: { type?: string; use_regex?: boolean } | null
  model?: { type?: string; max_input_chars_per_word?: number }
  added_tokens?: { content?: string }[]
}

export function cutRulesOf(tokenizerJson: Record<string, unknown>): CutRules {
  const json = tokenizerJson as TokenizerJson
  const addedTokens = (json.added_tokens ?? [])
    .map((token) => token.content ?? '')
    .filter((content) => content.length > 1)
  const normalizer = json.normalizer?.type
  const preTokenizer = json.pre_tokenizer?.type
  const model = json.model?.type
  if (
    model === 'WordPiece' &&
    preTokenizer === 'BertPreTokenizer' &&
    (normalizer === undefined || normalizer === 'BertNormalizer')
  ) {
    // Inside a word: more than max_input_chars_per_word run characters on the kept side make both the
    // piece's word and the whole text's one a single [UNK] (an added token made of such characters only
    // could sit in that run: no such cut then).
    const over = (json.model?.max_input_chars_per_word ?? 100) + 1
    const inWords = !addedTokens.some((content) => new RegExp(`^${wordRunChar}+$`, 'v').test(content))
    return {
      boundary: wordPieceBoundary,
      reach: 4,
      addedTokens,
      longWord: inWords ? { char: wordRunChar, over } : undefined,
    }
  }
  if (
    model === 'BPE' &&
    preTokenizer === 'ByteLevel' &&
    json.pre_tokenizer?.use_regex !== false &&
    (normalizer === undefined || normalizer === 'NFC')
  ) {
    return { boundary: byteLevelBoundary, reach: 4, addedTokens }
  }
  return { ...plainCutRules, addedTokens }
}

/**
 * The exact cuts at positions in [low, high], in order, found by the boundary regex in that stretch of the
 * text only (plus the context it reads), by the regex engine (not a loop over characters).
 */
export function cutsBetween(text: string, low: number, high: number, rules: CutRules): number[] {
  const offset = Math.max(0, low - rules.reach)
  const slice = text.slice(offset, high + rules.reach)
  const boundary = new RegExp(rules.boundary, 'gv')
  const cuts: number[] = []
  for (let match = boundary.exec(slice); match; match = boundary.exec(slice)) {
    const at = offset + match.index + match[0].length
    if (at > high) break
    if (at >= low && !splitsAddedToken(text, at, rules.addedTokens)) cuts.push(at)
  }
  return cuts
}

/** True when position p is inside an over-long word with enough of it on the kept side (see longWord). */
export function cutsLongWord(text: string, p: number, right: boolean, rules: CutRules): boolean {
  if (!rules.longWord || splitsAddedToken(text, p, rules.addedTokens)) return false
  const { char, over } = rules.longWord
  // Code points may be surrogate pairs: twice the characters of context.
  return right
    ? new RegExp(`${char}{${over}}$`, 'v').test(text.slice(Math.max(0, p - 2 * over), p))
    : new RegExp(`^${char}{${over}}`, 'v').test(text.slice(p, p + 2 * over))
}

/** True when an occurrence of an added token spans position p (the cut would split it). */
function splitsAddedToken(text: string, p: number, addedTokens: string[]): boolean {
  for (const token of addedTokens) {
    const start = Math.max(0, p - token.length + 1)
    // Matched as written (transformers.js splits them off the raw text, case-sensitively).
    const window = text.slice(start, p + token.length - 1)
    for (let at = window.indexOf(token); at !== -1; at = window.indexOf(token, at + 1)) {
      if (start + at < p && p < start + at + token.length) return true
    }
  }
  return false
}
