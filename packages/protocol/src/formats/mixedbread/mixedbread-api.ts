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
  tokenCount,
} from '../shared-fields'

/** mixedbread `POST /v1/reranking`: documents are `input`, `top_k`, `return_input`. */
export const mixedbreadRequestSchema = z.object({
  model: modelField,
  query: queryField,
  input: optional(documentList),
  documents: optional(documentList),
  top_k: positiveInt,
  return_input: flag,
  rank_fields: rankFieldsField,
})

export const mixedbreadResponseSchema = z.object({
  object: optional(z.string()),
  model: optional(z.string()),
  data: z.array(z.object({ index: indexField, score: scoreField, input: optional(documentItem.nullable()) })),
  usage: optional(z.object({ prompt_tokens: tokenCount, total_tokens: tokenCount })),
})

export interface MixedbreadWireRequest {
  model?: string
  query: string
  input: (string | Record<string, unknown>)[]
  top_k?: number
  return_input?: boolean
  rank_fields?: string[]
}

export interface MixedbreadWireResponse {
  object: 'list'
  model: string
  data: { index: number; score: number; input?: string | Record<string, unknown> }[]
  usage?: { prompt_tokens: number; total_tokens: number }
  top_k: number
  return_input: boolean
}

/** Assumed FastAPI-style like Voyage's; only our fake servers and tests emit it. */
export interface MixedbreadWireError {
  detail: string
}
