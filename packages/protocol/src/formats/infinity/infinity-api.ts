import * as z from 'zod'
import {
  documentList,
  flag,
  indexField,
  modelField,
  optional,
  positiveInt,
  queryField,
  scoreField,
} from '../shared-fields'

/** Infinity `POST /rerank`. Object documents are accepted leniently (their text is scored). */
export const infinityRequestSchema = z.object({
  model: modelField,
  query: queryField,
  documents: optional(documentList),
  texts: optional(documentList),
  return_documents: flag,
  raw_scores: flag,
  top_n: positiveInt,
})

/** `document` is a bare string (or null); `usage` counts characters, so it is not read as tokens. */
export const infinityResponseSchema = z.object({
  object: optional(z.string()),
  results: z.array(
    z.object({ relevance_score: scoreField, index: indexField, document: optional(z.string().nullable()) }),
  ),
  model: optional(z.string()),
  id: optional(z.string()),
  created: optional(z.number()),
})

export interface InfinityWireRequest {
  model?: string
  query: string
  documents: string[]
  return_documents?: boolean
  raw_scores?: boolean
  top_n?: number
}

export interface InfinityWireResponse {
  object: 'rerank'
  results: { relevance_score: number; index: number; document?: string }[]
  model: string
  usage?: { prompt_tokens: number; total_tokens: number }
  id: string
  created: number
}

/** Infinity's OpenAI-style error envelope; `code` is the HTTP status. */
export interface InfinityWireError {
  error: { message: string; type: string; param?: string; code: number }
}
