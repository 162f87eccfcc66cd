import * as z from 'zod'
import {
  documentItem,
  documentList,
  flag,
  indexField,
  modelField,
  optional,
  positiveInt,
  queryField,
  rankFieldsField,
  scoreField,
  textField,
  tokenCount,
  truncationDirectionField,
} from '../shared-fields'

/** `POST /rerank`: the native format, a superset of every canonical option. */
export const nativeRequestSchema = z.object({
  query: queryField,
  documents: optional(documentList),
  /** An alias of `documents`, as some Python reranker services name it. */
  texts: optional(documentList),
  top_n: positiveInt,
  /** An alias of `top_n`, as some Python reranker services name it. */
  top_k: positiveInt,
  return_documents: flag,
  model: modelField,
  rank_fields: rankFieldsField,
  max_tokens_per_doc: positiveInt,
  max_chunks_per_doc: positiveInt,
  raw_scores: flag,
  instruction: optional(textField()),
  truncate: flag,
  truncation_direction: truncationDirectionField,
})

export const nativeResponseSchema = z.object({
  model: optional(z.string()),
  results: z.array(
    z.object({ index: indexField, relevance_score: scoreField, document: optional(documentItem.nullable()) }),
  ),
  usage: optional(z.object({ total_tokens: tokenCount, prompt_tokens: tokenCount })),
})

export interface NativeWireRequest {
  query: string
  documents: (string | Record<string, unknown>)[]
  top_n?: number
  return_documents?: boolean
  model?: string
  rank_fields?: string[]
  max_tokens_per_doc?: number
  max_chunks_per_doc?: number
  raw_scores?: boolean
  instruction?: string
  truncate?: boolean
  truncation_direction?: 'left' | 'right'
}

export interface NativeWireResponse {
  model: string
  results: { index: number; relevance_score: number; document?: Record<string, unknown> }[]
  usage?: { total_tokens: number }
}

/** Our own error body: a machine-readable code next to the message, and the field at fault. */
export interface NativeWireError {
  error: { code: string; message: string; param?: string; details?: Readonly<Record<string, unknown>> }
}
