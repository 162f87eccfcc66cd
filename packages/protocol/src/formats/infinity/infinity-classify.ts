import * as z from 'zod'
import { documentText } from '../../document-text'
import { RerankError } from '../../errors/rerank-error'
import { type DecoderPromptTemplate, renderPrompt } from '../../prompt-templates'
import type { RerankRequest } from '../../rerank-request'
import type { RerankResponse } from '../../rerank-response'
import { definedEntries } from '../request-helpers'
import { checkedResults, newResponseId, responseFromWire } from '../response-helpers'
import { flag, modelField, optional, scoreField } from '../shared-fields'
import { parseWith } from '../zod-issues'

/**
 * Infinity `POST /classify`, used to serve decoder rerankers (mxbai-rerank-v2, Qwen3-Reranker) that Infinity
 * only runs as converted `*-seq` classifiers: the client renders each (query, document) pair into the model's
 * prompt and reads the score of the positive label.
 */
export const maxClassifyInputs = 2048

export const classifyRequestSchema = z.object({
  model: modelField,
  input: z.array(z.string({ error: 'expected a string' }), { error: 'expected an array of strings' }),
  raw_scores: flag,
})

const labelScore = z.object({ score: scoreField, label: z.string() })

export const classifyResponseSchema = z.object({
  object: optional(z.string()),
  data: z.array(z.array(labelScore)),
  model: optional(z.string()),
  id: optional(z.string()),
  created: optional(z.number()),
})

export interface ClassifyWireRequest {
  model?: string
  input: string[]
  raw_scores?: boolean
}

export interface ClassifyWireResponse {
  object: 'classify'
  data: { score: number; label: string }[][]
  model: string
  id: string
  created: number
}

export interface ClassifyRequest {
  model?: string
  input: string[]
  rawScores?: boolean
}

/** Server side: a classify request as a fake Infinity (or a proxy) receives it. */
export function parseClassifyRequest(body: unknown): ClassifyRequest {
  const wire = parseWith(
    classifyRequestSchema,
    body,
    'request',
    'Invalid request: the body must be a JSON object',
  )
  if (wire.input.length === 0) {
    throw new RerankError('invalid_request', 'Invalid request: input must not be empty', { param: 'input' })
  }
  if (wire.input.length > maxClassifyInputs) {
    throw new RerankError(
      'payload_too_large',
      `Invalid request: input has more than ${maxClassifyInputs} items`,
      {
        param: 'input',
      },
    )
  }
  return definedEntries({ model: wire.model, input: wire.input, rawScores: wire.raw_scores })
}

export interface ClassifyPromptOptions {
  template: DecoderPromptTemplate
  /** Documents longer than this are clipped before rendering, so the template's tail always survives. */
  maxDocumentChars?: number
}

/** Client side: one prompt per document, in request order. Chunking to `maxClassifyInputs` is the caller's. */
export function formatClassifyRequest(
  request: RerankRequest,
  options: ClassifyPromptOptions,
): ClassifyWireRequest {
  const input = request.documents.map((document) => {
    const text = documentText(document, request.rankFields)
    const clipped = options.maxDocumentChars === undefined ? text : text.slice(0, options.maxDocumentChars)
    return renderPrompt(options.template, request.query, clipped, request.instruction)
  })
  return definedEntries({ model: request.model, input, raw_scores: request.rawScores })
}

function findLabel(entries: readonly { score: number; label: string }[], label: string) {
  return (
    entries.find((entry) => entry.label === label) ??
    entries.find((entry) => entry.label.toLowerCase() === label)
  )
}

/**
 * The score of one input, picked by label name, never by position (Infinity sorts entries by score).
 * Probabilities: p(positive). Raw scores: the logit difference positive - negative, whose sigmoid is that
 * probability. A single-entry answer is a single-logit conversion (yes - no), used as it is.
 */
export function scoreFromLabels(
  entries: readonly { score: number; label: string }[],
  template: DecoderPromptTemplate,
  rawScores: boolean,
): number {
  const positive = findLabel(entries, template.positiveLabel)
  if (entries.length === 1 && (!positive || rawScores)) return entries[0]!.score
  if (!positive) {
    throw new RerankError(
      'upstream_error',
      `Invalid response from the reranker: no "${template.positiveLabel}" label (got ${entries.map((e) => e.label).join(', ')})`,
    )
  }
  if (!rawScores) return positive.score
  const negative = findLabel(entries, template.negativeLabel)
  if (!negative) {
    throw new RerankError(
      'upstream_error',
      `Invalid response from the reranker: no "${template.negativeLabel}" label`,
    )
  }
  return positive.score - negative.score
}

/** Client side: classify output (one entry list per prompt, in order) back to a ranked response. */
export function parseClassifyResponse(
  body: unknown,
  request: RerankRequest,
  template: DecoderPromptTemplate,
): RerankResponse {
  const wire = parseWith(
    classifyResponseSchema,
    body,
    'response',
    'Invalid response from the reranker: expected an object',
  )
  if (wire.data.length !== request.documents.length) {
    throw new RerankError(
      'upstream_error',
      `Invalid response from the reranker: ${wire.data.length} classifications for ${request.documents.length} documents`,
      { param: 'data' },
    )
  }
  const items = wire.data.map((entries, index) => ({
    index,
    score: scoreFromLabels(entries, template, request.rawScores ?? false),
  }))
  return responseFromWire(items, { id: wire.id, model: wire.model }, request)
}

/**
 * Server side (fakes and proxies): renders canonical scores as classify output. A probability p becomes
 * `[positive: p, negative: 1 - p]`; a raw score s becomes logits `[positive: s, negative: 0]`. Entries are
 * sorted by score, as Infinity sorts them.
 */
export function formatClassifyResponse(
  response: RerankResponse,
  request: RerankRequest,
  template: DecoderPromptTemplate,
): ClassifyWireResponse {
  const byIndex = new Map(
    checkedResults(response, { ...request, topN: undefined }).map((r) => [r.index, r.score]),
  )
  const data = request.documents.map((_, index) => {
    const score = byIndex.get(index)
    if (score === undefined) {
      throw new RerankError('internal', `No score for document ${index}`)
    }
    const negative = request.rawScores ? 0 : 1 - score
    return [
      { label: template.positiveLabel, score },
      { label: template.negativeLabel, score: negative },
    ].sort((a, b) => b.score - a.score)
  })
  return {
    object: 'classify',
    data,
    model: response.model ?? request.model ?? 'unknown',
    id: response.id ?? newResponseId(),
    created: Math.floor(Date.now() / 1000),
  }
}
