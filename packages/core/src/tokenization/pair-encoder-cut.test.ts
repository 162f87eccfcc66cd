import { join } from 'node:path'
import { qwen3RerankerTemplate, type RerankRequest } from '@rerank-kit/protocol'
import { beforeAll, describe, expect, it } from 'vitest'
import { fixturesDir } from '../test-support/reference-scorer'
import { type LoadedTokenizer, loadTokenizer } from './load-tokenizer'
import { encodeDecoderPrompts, encodeEncoderPairs, type TextTokenizer } from './pair-encoder'
import { pairLayoutOf } from './pair-layout'

// The pairs built from cut texts must be those built from whole texts (the behaviour before the cut), in plain
// truncation and in chunked mode, whenever the chunk limit lets the cut happen.

const sentence = 'The Seine flows through Paris, capital of France; naïve café 😀 東京 and 3.14 well-known '
const longDocument = (words: number) => `${sentence.repeat(words)}\n\n  end of the document.`

/** The tokenizer as before: a bound of infinitely many characters per token never cuts anything. */
const whole = (tokenizer: TextTokenizer): TextTokenizer => ({ ...tokenizer, maxTokenChars: Infinity })

/** Counts the characters actually tokenized, to show the cut took place. */
function counting(tokenizer: TextTokenizer) {
  const counter = { longest: 0 }
  const wrapped: TextTokenizer = {
    maxTokenChars: tokenizer.maxTokenChars,
    cutRules: tokenizer.cutRules,
    encode: (text) => {
      counter.longest = Math.max(counter.longest, text.length)
      return tokenizer.encode(text)
    },
  }
  return { wrapped, counter }
}

const requests: [string, Partial<RerankRequest>, number][] = [
  ['plain truncation, right', {}, 1],
  ['plain truncation, left', { truncationDirection: 'left' }, 1],
  ['3 chunks', { maxChunksPerDoc: 3 }, 1],
  ['3 chunks from the end', { maxChunksPerDoc: 3, truncationDirection: 'left' }, 1],
  ['4 chunks of at most 40 tokens', { maxChunksPerDoc: 4, maxTokensPerDoc: 40 }, 1],
  ['chunked by default, with overlap', {}, 2],
]

describe('encodeEncoderPairs on cut texts (WordPiece fixture)', () => {
  let tokenizer: LoadedTokenizer
  beforeAll(async () => {
    tokenizer = await loadTokenizer(join(fixturesDir, 'tiny-bert-reranker'))
  })

  it.each(requests)('%s: the same pairs as from the whole texts', async (_, fields, maxChunksPerDoc) => {
    const layout = pairLayoutOf(tokenizer.tokenizerJson)
    const defaults = { maxChunksPerDoc, chunkOverlap: maxChunksPerDoc > 1 ? 8 : 0 }
    const request: RerankRequest = {
      query: `what flows through paris ${'long query words '.repeat(400)}`,
      documents: ['short one', longDocument(5), longDocument(3000), { title: 't', text: longDocument(2000) }],
      rankFields: ['text'],
      ...fields,
    }
    const { wrapped, counter } = counting(tokenizer)
    const cut = await encodeEncoderPairs(request, wrapped, layout, 128, defaults)
    const before = await encodeEncoderPairs(request, whole(tokenizer), layout, 128, defaults)
    expect(cut.items).toEqual(before.items)
    expect(new Set(cut.items.map((item) => item.document)).size).toBe(4)
    // The 250,000-character documents were never tokenized whole.
    expect(counter.longest).toBeLessThan(100_000)
  })

  it('refuses an over-long document without truncation, naming the tokens it saw', async () => {
    const layout = pairLayoutOf(tokenizer.tokenizerJson)
    const request = { query: 'q', documents: [longDocument(3000)], truncate: false }
    await expect(
      encodeEncoderPairs(request, tokenizer, layout, 128, { maxChunksPerDoc: 1, chunkOverlap: 0 }),
    ).rejects.toThrow(/^Document 0 has at least \d+ tokens, over the 124 that fit with the query/)
  })
})

describe('encodeDecoderPrompts on cut texts (Qwen-style byte-level BPE fixture)', () => {
  let tokenizer: LoadedTokenizer
  beforeAll(async () => {
    tokenizer = await loadTokenizer(join(fixturesDir, 'tiny-qwen3-reranker'))
  })

  it.each(requests)('%s: the same prompts as from the whole texts', async (_, fields, maxChunksPerDoc) => {
    const template = qwen3RerankerTemplate
    const defaults = { maxChunksPerDoc, chunkOverlap: maxChunksPerDoc > 1 ? 8 : 0 }
    const request: RerankRequest = {
      query: 'what flows through paris',
      documents: ['short one', longDocument(5), longDocument(3000)],
      ...fields,
    }
    const { wrapped, counter } = counting(tokenizer)
    const cut = await encodeDecoderPrompts(request, wrapped, template, 160, defaults)
    const before = await encodeDecoderPrompts(request, whole(tokenizer), template, 160, defaults)
    expect(cut.items).toEqual(before.items)
    expect(counter.longest).toBeLessThan(100_000)
  })

  it('a query far over the limit: the same kept prefix as from the whole query', async () => {
    const template = qwen3RerankerTemplate
    const defaults = { maxChunksPerDoc: 1, chunkOverlap: 0 }
    const request = { query: `where ${sentence.repeat(5000)}`, documents: ['a document'] }
    const { wrapped, counter } = counting(tokenizer)
    const cut = await encodeDecoderPrompts(request, wrapped, template, 160, defaults)
    const before = await encodeDecoderPrompts(request, whole(tokenizer), template, 160, defaults)
    expect(cut.items).toEqual(before.items)
    expect(counter.longest).toBeLessThan(100_000)
  })
})

describe('texts without a single space (one long "word"), through the pair encoders', () => {
  const blob = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
  const documents = [
    blob('abcdefghij', 200_000),
    blob('東京は日本の首都です北京大学', 100_000),
    blob('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIzNDU2Nzg5Ky8', 150_000),
    blob('3141592653', 150_000),
  ]

  it.each(['right', 'left'] as const)(
    'encoder (WordPiece), %s: the same pairs as from the whole texts',
    async (direction) => {
      const tokenizer = await loadTokenizer(join(fixturesDir, 'tiny-bert-reranker'))
      const layout = pairLayoutOf(tokenizer.tokenizerJson)
      const defaults = { maxChunksPerDoc: 1, chunkOverlap: 0 }
      const request: RerankRequest = { query: blob('東京', 5_000), documents, truncationDirection: direction }
      const { wrapped, counter } = counting(tokenizer)
      const cut = await encodeEncoderPairs(request, wrapped, layout, 128, defaults)
      const before = await encodeEncoderPairs(request, whole(tokenizer), layout, 128, defaults)
      expect(cut.items).toEqual(before.items)
      expect(counter.longest).toBeLessThan(100_000)
    },
  )

  it.each(['right', 'left'] as const)(
    'decoder (byte-level BPE), %s: the same prompts as from the whole texts',
    async (direction) => {
      const tokenizer = await loadTokenizer(join(fixturesDir, 'tiny-qwen3-reranker'))
      const defaults = { maxChunksPerDoc: 1, chunkOverlap: 0 }
      const request: RerankRequest = {
        query: blob('東京は日本の首都です', 50_000),
        documents,
        truncationDirection: direction,
      }
      const { wrapped, counter } = counting(tokenizer)
      const cut = await encodeDecoderPrompts(request, wrapped, qwen3RerankerTemplate, 160, defaults)
      const before = await encodeDecoderPrompts(
        request,
        whole(tokenizer),
        qwen3RerankerTemplate,
        160,
        defaults,
      )
      expect(cut.items).toEqual(before.items)
      expect(counter.longest).toBeLessThan(50_000)
    },
  )
})
