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

/**
 * `POST /v1/rerank`: Cohere v1, and Jina's request, which is a subset of it. Also read leniently: `texts` as
 * an alias of `documents`, and v2's `max_tokens_per_doc`.
 */
export const cohereV1RequestSchema = z.object({
  model: modelField,
  query: queryField,
  documents: optional(documentList),
  texts: optional(documentList),
  top_n: positiveInt,
  /** An alias of `top_n`, as Voyage and mixedbread name it. */
  top_k: positiveInt,
  rank_fields: rankFieldsField,
  return_documents: flag,
  max_chunks_per_doc: positiveInt,
  max_tokens_per_doc: positiveInt,
})

/**
 * `POST /v2/rerank`. Cohere requires `model` and plain-string documents; we read leniently (model optional,
 * object documents, and the `return_documents` / `rank_fields` that gateways still forward).
 */
export const cohereV2RequestSchema = z.object({
  model: modelField,
  query: queryField,
  documents: optional(documentList),
  texts: optional(documentList),
  top_n: positiveInt,
  top_k: positiveInt,
  max_tokens_per_doc: positiveInt,
  return_documents: flag,
  rank_fields: rankFieldsField,
})

const billedUnits = z.object({ search_units: tokenCount, input_tokens: tokenCount, total_tokens: tokenCount })

/** v1 and v2 answer alike; a `null` document (LiteLLM's complaint about some servers) is read as absent. */
export const cohereResponseSchema = z.object({
  id: optional(z.string()),
  model: optional(z.string()),
  results: z.array(
    z.object({ index: indexField, relevance_score: scoreField, document: optional(documentItem.nullable()) }),
  ),
  usage: optional(
    z.object({ total_tokens: tokenCount, prompt_tokens: tokenCount, completion_tokens: tokenCount }),
  ),
  meta: optional(
    z.object({
      billed_units: optional(billedUnits),
      tokens: optional(z.object({ input_tokens: tokenCount, output_tokens: tokenCount })),
    }),
  ),
})

export interface CohereWireRequest {
  model?: string
  query: string
  documents: (string | Record<string, unknown>)[]
  top_n?: number
  rank_fields?: string[]
  return_documents?: boolean
  max_chunks_per_doc?: number
  max_tokens_per_doc?: number
}

export interface CohereWireMeta {
  api_version: { version: '1' | '2' }
  billed_units: { search_units: number }
  tokens?: { input_tokens: number }
}

export interface CohereWireResponse {
  id: string
  /** Jina's field, on `/v1/rerank` only. */
  model?: string
  /** Together's usage (a superset of Jina's): `@ai-sdk/togetherai` requires all three. */
  usage?: TogetherUsage
  results: { index: number; relevance_score: number; document?: Record<string, unknown> }[]
  meta: CohereWireMeta
}

/** Token usage as Together (and OpenAI) report it: a reranker generates nothing, so no completion tokens. */
export interface TogetherUsage {
  prompt_tokens: number
  completion_tokens: 0
  total_tokens: number
}

/** Cohere's error body, exactly: `{"message": "invalid request: ..."}`. */
export interface CohereWireError {
  message: string
}
