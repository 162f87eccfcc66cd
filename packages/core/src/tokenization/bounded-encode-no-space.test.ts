import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { fixturesDir } from '../test-support/reference-scorer'
import { boundedEncode, HARD_CUT_CHARS } from './bounded-encode'
import { cutsBetween, cutsLongWord } from './cut-rules'
import { type LoadedTokenizer, loadTokenizer } from './load-tokenizer'

// Texts with no plain space to cut at (one long "word") were tokenized whole on the main thread: 10 MB of
// letters held the Qwen-style fixture's server for 30 s. Their cut must stay exact (or agree with the whole
// text) and tokenize a bounded number of characters, whatever their length.

/** Base64-looking characters from a fixed seed (letters, digits, + / and = padding), 64 Ki of them repeated. */
function base64Blob(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  let state = 12345
  let blob = ''
  while (blob.length < Math.min(length, 65_536)) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    blob += alphabet[state >>> 26]
  }
  return `${blob.repeat(Math.ceil(length / blob.length)).slice(0, length - 2)}==`
}

const kinds: [string, (length: number) => string][] = [
  ['letters', (length) => 'abcdefghij'.repeat(Math.ceil(length / 10)).slice(0, length)],
  ['a base64 blob', base64Blob],
  ['CJK', (length) => '東京は日本の首都です北京大学'.repeat(Math.ceil(length / 14)).slice(0, length)],
  ['digits', (length) => '3141592653'.repeat(Math.ceil(length / 10)).slice(0, length)],
  ['punctuation', (length) => '!?.,;-'.repeat(Math.ceil(length / 6)).slice(0, length)],
]

const models = ['tiny-bert-reranker', 'tiny-qwen3-reranker', 'tiny-xlmr-reranker']
const needed = 513

describe.each(models)('boundedEncode on texts without spaces (%s)', (model) => {
  let tokenizer: LoadedTokenizer
  beforeAll(async () => {
    tokenizer = await loadTokenizer(join(fixturesDir, model))
  })

  /** boundedEncode with the tokenizer's bound and rules, counting the characters it tokenizes. */
  function cutWithCount(text: string, direction: 'left' | 'right') {
    let tokenized = 0
    const encode = (piece: string) => {
      tokenized += piece.length
      return tokenizer.encode(piece)
    }
    const result = boundedEncode(text, encode, {
      needed,
      direction,
      charsPerToken: tokenizer.maxTokenChars,
      rules: tokenizer.cutRules,
    })
    return { ...result, tokenized }
  }

  it.each(kinds)('%s (100,000 characters): the kept ids are those of the whole text', (_, make) => {
    // 100,000: the whole text is still affordable here (transformers.js's Unigram overflows its stack on
    // 131,072 unknown characters in one piece).
    const text = make(100_000)
    const whole = tokenizer.encode(text)
    for (const direction of ['right', 'left'] as const) {
      const { ids, cut, tokenized } = cutWithCount(text, direction)
      const keep = (list: number[]) => (direction === 'right' ? list.slice(0, needed) : list.slice(-needed))
      expect(keep(ids), direction).toEqual(keep(whole))
      // Cut wherever the whole text has more tokens than kept, and then a part of it only was tokenized.
      if (whole.length > needed) {
        expect(cut, direction).toBe(true)
        expect(tokenized, direction).toBeLessThan(text.length)
      }
    }
  })

  it.each(kinds)('%s (10 MB): a bounded number of characters is tokenized', (_, make) => {
    const cap = Math.max(HARD_CUT_CHARS, 4 * needed * tokenizer.maxTokenChars)
    const big = make(10_000_000)
    for (const direction of ['right', 'left'] as const) {
      const { cut, tokenized } = cutWithCount(big, direction)
      expect(cut, direction).toBe(true)
      expect(tokenized, direction).toBeLessThanOrEqual(6 * cap)
    }
    // The same characters for a text a fifth as long: the cost does not grow with the length.
    expect(cutWithCount(make(2_000_000), 'right').tokenized).toBe(cutWithCount(big, 'right').tokenized)
  })
})

describe('exact cuts next to punctuation, CJK and inside over-long words', () => {
  // Pieces that trip a careless rule: Greek capital sigma (lowercased to final ς depending on what follows
  // past case-ignorable characters such as . and '), contractions, combining marks, words over WordPiece's
  // 100 characters, added-token strings.
  const pieces = [
    'ΑΣ',
    'Σ.',
    "'Σ",
    'ΟΔΟΣ',
    "it's",
    "'ll",
    'e\u0301',
    'İ',
    'x'.repeat(250),
    'ab1'.repeat(60),
    '東京',
    '...',
    '(a)',
    '3.14',
    '[SEP]',
    '<|im_start|>',
    'naïve',
    '😀',
  ]
  function text(seed: number, count: number): string {
    let state = seed
    let result = ''
    for (let i = 0; i < count; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0
      result += pieces[(state >>> 8) % pieces.length]
      // Mostly no space at all between pieces.
      if ((state >>> 4) % 7 === 0) result += ' '
    }
    return result
  }

  /** At most 80 of the cuts, spread over the text (each one tokenizes a piece: kept affordable). */
  const spread = (cuts: number[]) => cuts.filter((_, i) => i % Math.ceil(cuts.length / 80) === 0)

  it.each(models)("%s: the cuts the rules allow give the whole text's ids", async (model) => {
    const tokenizer = await loadTokenizer(join(fixturesDir, model))
    const { cutRules: rules } = tokenizer
    let checked = 0
    let inWords = 0
    for (let seed = 1; seed <= 16; seed++) {
      const sample = text(seed, 60)
      const whole = tokenizer.encode(sample)
      for (const at of spread(cutsBetween(sample, 1, sample.length - 1, rules))) {
        const ids = tokenizer.encode(sample.slice(0, at))
        expect(ids, `seed ${seed}, prefix ${JSON.stringify(sample.slice(at - 12, at))}|`).toEqual(
          whole.slice(0, ids.length),
        )
        checked++
      }
      for (const at of spread(cutsBetween(sample, 1, sample.length - 1, rules))) {
        const ids = tokenizer.encode(sample.slice(at))
        expect(ids, `seed ${seed}, suffix |${JSON.stringify(sample.slice(at, at + 12))}`).toEqual(
          whole.slice(whole.length - ids.length),
        )
        checked++
      }
      // Inside over-long words (WordPiece): one position in five that qualifies, either way.
      for (let at = 1; at < sample.length; at += 5) {
        if (cutsLongWord(sample, at, true, rules)) {
          const ids = tokenizer.encode(sample.slice(0, at))
          expect(ids, `seed ${seed}, in a word before ${at}`).toEqual(whole.slice(0, ids.length))
          inWords++
        }
        if (cutsLongWord(sample, at, false, rules)) {
          const ids = tokenizer.encode(sample.slice(at))
          expect(ids, `seed ${seed}, in a word from ${at}`).toEqual(whole.slice(whole.length - ids.length))
          inWords++
        }
      }
    }
    // The rules found cuts beyond plain spaces (WordPiece, byte-level) or at least those (Unigram).
    expect(checked).toBeGreaterThan(model === 'tiny-xlmr-reranker' ? 100 : 1000)
    expect(inWords > 0).toBe(model === 'tiny-bert-reranker')
  })

  it.each(models)("%s: boundedEncode keeps the whole text's ids, with many cuts", async (model) => {
    const tokenizer = await loadTokenizer(join(fixturesDir, model))
    let cuts = 0
    for (let seed = 1; seed <= 12; seed++) {
      const sample = text(seed, 300)
      const whole = tokenizer.encode(sample)
      for (const direction of ['right', 'left'] as const) {
        for (const count of [1, 5, 40]) {
          const { ids, cut } = boundedEncode(sample, tokenizer.encode, {
            needed: count,
            direction,
            charsPerToken: 1,
            rules: tokenizer.cutRules,
          })
          const keep = (list: number[]) => (direction === 'right' ? list.slice(0, count) : list.slice(-count))
          expect(keep(ids), `seed ${seed}, ${direction}, ${count}`).toEqual(keep(whole))
          if (cut) cuts++
        }
      }
    }
    expect(cuts).toBeGreaterThan(50)
  })
})
