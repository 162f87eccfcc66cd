import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { fixturesDir } from '../test-support/reference-scorer'
import { boundedEncode, maxTokenCharsOf } from './bounded-encode'
import { type LoadedTokenizer, loadTokenizer } from './load-tokenizer'

// The character cut must give the very ids of "tokenize the whole text, then truncate", for every tokenizer
// kind the fixtures hold, on texts made to trip a careless cut.

/** mulberry32: the same texts on every run. */
function random(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pieces = [
  'the',
  'capital',
  'of',
  'France',
  'is',
  'Paris',
  'river',
  'Seine',
  "don't",
  "it's",
  'well-known',
  'a.b.c',
  '3.14159',
  '2026',
  '...',
  '!?',
  '(see',
  'below)',
  'naïve',
  'café',
  'Ærøskøbing',
  'straße',
  '東京',
  '北京大学',
  'Привет',
  'مرحبا',
  '😀',
  '👩‍👩‍👧',
  '🇫🇷',
  'e\u0301',
  'x\u00a0y',
  'supercalifragilisticexpialidocious',
  'a'.repeat(150),
  'ab'.repeat(70),
  '<unk>',
  '[SEP]',
  '<|im_start|>',
]
const separators = [' ', ' ', ' ', ' ', '  ', '     ', '\n', '\n\n', ' \n ', '\t', ' \t ', '\r\n', '. ', ', ']

function randomText(seed: number, words: number): string {
  const next = random(seed)
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)]!
  let text = next() < 0.3 ? pick(separators) : ''
  for (let i = 0; i < words; i++) text += pick(pieces) + pick(separators)
  // Now and then a long whitespace run, which holds no tokens at all (the cut must widen past it).
  if (next() < 0.3) text = text.replace(/ /, ' '.repeat(3000))
  return next() < 0.5 ? text.trimEnd() : text
}

const texts = [
  ...Array.from({ length: 40 }, (_, seed) => randomText(seed, 20 + seed * 15)),
  `${'word '.repeat(2000)}`,
  `${' '.repeat(5000)}tail words here`,
  `head words ${' '.repeat(5000)}`,
  'x'.repeat(5000),
  `${'😀 '.repeat(800)}end`,
  `${'東京'.repeat(900)} then words`,
]

describe.each([
  ['WordPiece encoder', 'tiny-bert-reranker'],
  ['byte-level BPE decoder (Qwen-style)', 'tiny-qwen3-reranker'],
  ['Unigram / Metaspace encoder', 'tiny-xlmr-reranker'],
])('boundedEncode with the %s tokenizer', (_, model) => {
  let tokenizer: LoadedTokenizer
  let charsPerToken: number
  beforeAll(async () => {
    tokenizer = await loadTokenizer(join(fixturesDir, model))
    charsPerToken = maxTokenCharsOf(tokenizer.tokenizerJson)
  })

  it('reads a bound on the characters per token from tokenizer.json', () => {
    // WordPiece: a word up to 100 characters can be one unknown token; the others have long vocab entries.
    expect(charsPerToken).toBeGreaterThanOrEqual(model === 'tiny-bert-reranker' ? 100 : 8)
  })

  it.each(['right', 'left'] as const)(
    '%s truncation: ids identical to whole-text tokenizing',
    (direction) => {
      let cuts = 0
      for (const [index, text] of texts.entries()) {
        const whole = tokenizer.encode(text)
        // The real bound, and a bound of 1 character per token, which cuts far more often and must widen;
        // with the plain space rule and with the tokenizer's own cut rules (punctuation, character classes).
        for (const [perToken, rules] of [
          [charsPerToken, undefined],
          [1, undefined],
          [1, tokenizer.cutRules],
        ] as const) {
          for (const needed of [1, 3, 17, 64, 200]) {
            const { ids, cut } = boundedEncode(text, tokenizer.encode, {
              needed,
              direction,
              charsPerToken: perToken,
              rules,
            })
            const keep = (list: number[]) =>
              direction === 'right' ? list.slice(0, needed) : list.slice(-needed)
            const where = `text ${index}, needed ${needed}, ${perToken} chars per token, ${rules ? 'own' : 'plain'} rules`
            expect(keep(ids), where).toEqual(keep(whole))
            if (cut) {
              cuts++
              expect(ids.length, where).toBeGreaterThanOrEqual(needed)
              expect(whole.length, where).toBeGreaterThanOrEqual(ids.length)
            } else expect(ids, where).toEqual(whole)
          }
        }
      }
      // The cut really happened (often), so the equality above is about cut texts.
      expect(cuts).toBeGreaterThan(200)
    },
  )

  it('a prompt lead stays in front of the whole text and of a prefix (byte-level BPE joins it to the word)', () => {
    const text = randomText(99, 400)
    const whole = tokenizer.encode(` ${text}`)
    const right = boundedEncode(text, tokenizer.encode, {
      needed: 50,
      direction: 'right',
      charsPerToken: 1,
      lead: ' ',
    })
    expect(right.cut).toBe(true)
    expect(right.ids.slice(0, 50)).toEqual(whole.slice(0, 50))
    const left = boundedEncode(text, tokenizer.encode, {
      needed: 50,
      direction: 'left',
      charsPerToken: 1,
      lead: ' ',
    })
    expect(left.cut).toBe(true)
    expect(left.ids.slice(-50)).toEqual(whole.slice(-50))
  })
})

describe('boundedEncode on a 10 MB text', () => {
  it('tokenizes only a bounded piece of it, quickly', async () => {
    const tokenizer = await loadTokenizer(join(fixturesDir, 'tiny-bert-reranker'))
    const text = 'the capital of france is paris on the seine '.repeat(230_000)
    let encoded = 0
    const encode = (piece: string) => {
      encoded += piece.length
      return tokenizer.encode(piece)
    }
    const started = performance.now()
    const { ids, cut } = boundedEncode(text, encode, {
      needed: 512,
      direction: 'left',
      charsPerToken: maxTokenCharsOf(tokenizer.tokenizerJson),
    })
    expect(cut).toBe(true)
    expect(ids.length).toBeGreaterThanOrEqual(512)
    expect(encoded).toBeLessThan(200_000)
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('finds the boundary past megabytes of spaces at once, and stays exact', async () => {
    const tokenizer = await loadTokenizer(join(fixturesDir, 'tiny-bert-reranker'))
    const spaces = ' '.repeat(4_000_000)
    const text = `${'paris seine '.repeat(3000)}${spaces}capital of france${spaces}${'river bank '.repeat(3000)}`
    const whole = tokenizer.encode(text)
    for (const direction of ['right', 'left'] as const) {
      const started = performance.now()
      const { ids, cut } = boundedEncode(text, tokenizer.encode, {
        needed: 600,
        direction,
        charsPerToken: 100,
      })
      expect(performance.now() - started).toBeLessThan(1000)
      expect(cut).toBe(true)
      const keep = (list: number[]) => (direction === 'right' ? list.slice(0, 600) : list.slice(-600))
      expect(keep(ids)).toEqual(keep(whole))
    }
  })
})
