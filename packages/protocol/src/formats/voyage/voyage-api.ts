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
  tokenCount,
} from '../shared-fields'

/** Voyage `POST /v1/rerank`: `top_k` instead of top_n, `truncation` (default true) instead of truncate. */
export const voyageRequestSchema = z.object({
  query: queryField,
  documents: optional(documentList),
  texts: optional(documentList),
  model: modelField,
  top_k: positiveInt,
  return_documents: flag,
  truncation: flag,
})

export const voyageResponseSchema = z.object({
  object: optional(z.string()),
  data: z.array(
    z.object({ index: indexField, relevance_score: scoreField, document: optional(z.string().nullable()) }),
  ),
  model: optional(z.string()),
  usage: optional(z.object({ total_tokens: tokenCount })),
})

export interface VoyageWireRequest {
  query: string
  documents: string[]
  model?: string
  top_k?: number
  return_documents?: boolean
  truncation?: boolean
}

export interface VoyageWireResponse {
  object: 'list'
  data: { index: number; relevance_score: number; document?: string }[]
  model: string
  usage?: { total_tokens: number }
}

/** Voyage answers errors FastAPI-style. */
export interface VoyageWireError {
  detail: string
}
