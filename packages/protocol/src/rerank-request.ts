/**
 * A document is plain text, or an object whose `text` (or the fields named by `rankFields`) is scored. The
 * other fields of an object travel along and are echoed back when documents are returned.
 */
export type RerankDocument = string | RerankDocumentObject

export interface RerankDocumentObject {
  text?: string
  [field: string]: unknown
}

/** The canonical rerank request every wire format parses into. */
export interface RerankRequest {
  query: string
  documents: RerankDocument[]
  /** Return only the best N results (>= 1; larger than the list means all). */
  topN?: number
  /** Echo each result's document. Parsers always set it, using their family's default. */
  returnDocuments?: boolean
  /** The model (or router group) to use; absent means the server's default. */
  model?: string
  /** For object documents: the fields to score, in order, instead of `text`. */
  rankFields?: string[]
  /** Split a long document into chunks of at most this many tokens and score it as the max over chunks. */
  maxTokensPerDoc?: number
  /** At most this many chunks per document (Cohere v1 semantics); the rest of the document is ignored. */
  maxChunksPerDoc?: number
  /** Return the raw logit instead of the activated score in [0, 1]. */
  rawScores?: boolean
  /** Task instruction for decoder rerankers (Qwen3-Reranker, mxbai-rerank-v2). */
  instruction?: string
  /** Truncate inputs that are too long for the model (true) or refuse them (false); absent: the engine decides. */
  truncate?: boolean
  /** Which end of an over-long document is cut (TEI's `truncation_direction`). */
  truncationDirection?: 'left' | 'right'
}

export interface RerankCallOptions {
  /** Aborting drops the request's work that has not started yet and rejects with an `aborted` error. */
  signal?: AbortSignal
  /**
   * The request's tags (LiteLLM's tag routing): a Router with tag filtering sends it only to deployments
   * carrying one of them. Other rerankers ignore them.
   */
  tags?: readonly string[]
}
