import * as z from 'zod'
import {
  documentList,
  flag,
  indexField,
  optional,
  queryField,
  scoreField,
  truncationDirectionField,
} from '../shared-fields'

/** Text Embeddings Inference `POST /rerank`. `documents` is read as an alias of `texts`. */
export const teiRequestSchema = z.object({
  query: queryField,
  texts: optional(documentList),
  documents: optional(documentList),
  truncate: flag,
  truncation_direction: truncationDirectionField,
  raw_scores: flag,
  return_text: flag,
})

/** A bare array, sorted by score. */
export const teiResponseSchema = z.array(
  z.object({ index: indexField, score: scoreField, text: optional(z.string()) }),
)

export interface TeiWireRequest {
  query: string
  texts: string[]
  truncate?: boolean
  truncation_direction?: 'left' | 'right'
  raw_scores?: boolean
  return_text?: boolean
}

export type TeiWireResponse = { index: number; score: number; text?: string }[]

export type TeiErrorType = 'empty' | 'validation' | 'tokenizer' | 'backend' | 'overloaded' | 'unhealthy'

export interface TeiWireError {
  error: string
  error_type: TeiErrorType
}
