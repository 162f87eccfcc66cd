import { describe, expect, it } from 'vitest'
import { RerankError } from './errors/rerank-error'
import {
  formatClassifyRequest,
  formatClassifyResponse,
  parseClassifyRequest,
  parseClassifyResponse,
  scoreFromLabels,
} from './formats/infinity/infinity-classify'
import { mxbaiRerankV2Template, qwen3RerankerTemplate, renderPrompt } from './prompt-templates'
import type { RerankRequest } from './rerank-request'

describe('decoder prompt templates', () => {
  it('Qwen3-Reranker, with its default instruction', () => {
    expect(renderPrompt(qwen3RerankerTemplate, 'What is Paris?', 'Paris is a city.')).toBe(
      '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct ' +
        'provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n' +
        '<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n' +
        '<Query>: What is Paris?\n<Document>: Paris is a city.' +
        '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
    )
    expect(renderPrompt(qwen3RerankerTemplate, 'q', 'd', 'Find code')).toContain(
      '<Instruct>: Find code\n<Query>: q\n',
    )
  })

  it('mxbai-rerank-v2, with and without an instruction', () => {
    const head =
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
      '<|im_start|>user\n'
    const task =
      'You are a search relevance expert who evaluates how well documents match search queries. For each ' +
      'query-document pair, carefully analyze the semantic relationship between them, then provide your binary ' +
      'relevance judgment (0 for not relevant, 1 for relevant).\nRelevance:<|im_end|>\n<|im_start|>assistant\n'
    expect(renderPrompt(mxbaiRerankV2Template, 'q?', 'doc.')).toBe(
      `${head}query: q?\ndocument: doc.\n${task}`,
    )
    expect(renderPrompt(mxbaiRerankV2Template, 'q?', 'doc.', 'Be strict')).toBe(
      `${head}instruction: Be strict\nquery: q?\ndocument: doc.\n${task}`,
    )
  })
})

describe('Infinity classify as rerank', () => {
  const request: RerankRequest = {
    query: 'q',
    documents: ['short', 'x'.repeat(5000), { text: 'object doc' }],
    model: 'qwen3-reranker-seq',
    instruction: 'Judge',
  }

  it('renders one prompt per document and clips the document, never the suffix', () => {
    const wire = formatClassifyRequest(request, { template: qwen3RerankerTemplate, maxDocumentChars: 100 })
    expect(wire.model).toBe('qwen3-reranker-seq')
    expect(wire.input).toHaveLength(3)
    expect(wire.input[1]!.endsWith(qwen3RerankerTemplate.tail)).toBe(true)
    expect(wire.input[1]).toContain(`<Document>: ${'x'.repeat(100)}<|im_end|>`)
    expect(wire.input[2]).toContain('<Document>: object doc<|im_end|>')
    expect(parseClassifyRequest(wire)).toEqual({ model: 'qwen3-reranker-seq', input: wire.input })
  })

  it('picks the score by label name, not by position', () => {
    const entries = [
      { label: 'no', score: 0.8 },
      { label: 'yes', score: 0.2 },
    ]
    expect(scoreFromLabels(entries, qwen3RerankerTemplate, false)).toBe(0.2)
    expect(
      scoreFromLabels(
        [
          { label: '0', score: 0.7 },
          { label: '1', score: 0.3 },
        ],
        mxbaiRerankV2Template,
        false,
      ),
    ).toBe(0.3)
    // Raw scores: the logit difference, whose sigmoid is p(yes).
    expect(
      scoreFromLabels(
        [
          { label: 'yes', score: 2.5 },
          { label: 'no', score: -1 },
        ],
        qwen3RerankerTemplate,
        true,
      ),
    ).toBe(3.5)
    // Single-logit conversions answer one entry whatever its label.
    expect(scoreFromLabels([{ label: 'LABEL_0', score: 0.91 }], qwen3RerankerTemplate, false)).toBe(0.91)
    expect(() =>
      scoreFromLabels(
        [
          { label: 'a', score: 1 },
          { label: 'b', score: 0 },
        ],
        qwen3RerankerTemplate,
        false,
      ),
    ).toThrowError('no "yes" label (got a, b)')
  })

  it('round-trips canonical scores through classify output, sorted and cut to topN', () => {
    const scored = {
      results: [
        { index: 0, score: 0.25 },
        { index: 1, score: 0.9 },
        { index: 2, score: 0.5 },
      ],
    }
    const wire = JSON.parse(JSON.stringify(formatClassifyResponse(scored, request, qwen3RerankerTemplate)))
    expect(wire.data[0]).toEqual([
      { label: 'no', score: 0.75 },
      { label: 'yes', score: 0.25 },
    ])
    const parsed = parseClassifyResponse(
      wire,
      { ...request, topN: 2, returnDocuments: true },
      qwen3RerankerTemplate,
    )
    expect(parsed.results).toEqual([
      { index: 1, score: 0.9, document: 'x'.repeat(5000) },
      { index: 2, score: 0.5, document: { text: 'object doc' } },
    ])
    const raw = { ...request, rawScores: true }
    const logits = {
      results: [
        { index: 0, score: -2 },
        { index: 1, score: 4 },
        { index: 2, score: 0.5 },
      ],
    }
    const rawWire = JSON.parse(JSON.stringify(formatClassifyResponse(logits, raw, qwen3RerankerTemplate)))
    expect(parseClassifyResponse(rawWire, raw, qwen3RerankerTemplate).results.map((r) => r.score)).toEqual([
      4, 0.5, -2,
    ])
  })

  it('refuses a response with the wrong number of classifications, and classify requests past 2048 inputs', () => {
    expect(() =>
      parseClassifyResponse({ data: [[{ label: 'yes', score: 1 }]] }, request, qwen3RerankerTemplate),
    ).toThrowError('1 classifications for 3 documents')
    try {
      parseClassifyRequest({ input: Array.from({ length: 2049 }, () => 'p') })
      expect.unreachable()
    } catch (error) {
      expect(RerankError.isInstance(error)).toBe(true)
      expect((error as RerankError).status).toBe(413)
    }
    expect(() => parseClassifyRequest({ input: [] })).toThrowError('input must not be empty')
  })
})
