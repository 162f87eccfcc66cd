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
  scoreField,
  tokenCount,
} from '../shared-fields'

/** Jina's `POST /v1/rerank` (served by us at `/api/v1/rerank` as well as `/v1/rerank`). */
export const jinaRequestSchema = z.object({
  model: modelField,
  query: queryField,
  documents: optional(documentList),
  texts: optional(documentList),
  top_n: positiveInt,
  /** An alias of `top_n`, as Voyage and mixedbread name it. */
  top_k: positiveInt,
  return_documents: flag,
})

/** Aggregators in front of Jina add `usage.prompt_tokens`: accepted. */
export const jinaResponseSchema = z.object({
  model: optional(z.string()),
  usage: optional(z.object({ total_tokens: tokenCount, prompt_tokens: tokenCount })),
  results: z.array(
    z.object({ index: indexField, relevance_score: scoreField, document: optional(documentItem.nullable()) }),
  ),
})

export interface JinaWireRequest {
  model?: string
  query: string
  documents: (string | Record<string, unknown>)[]
  top_n?: number
  return_documents?: boolean
}

export interface JinaWireResponse {
  model: string
  usage?: { total_tokens: number }
  results: { index: number; relevance_score: number; document?: Record<string, unknown> }[]
}

/** Jina's API is FastAPI-based and answers errors as `{"detail": "..."}`. */
export interface JinaWireError {
  detail: string
}
