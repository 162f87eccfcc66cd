import type { ServedReranker } from '@rerank-kit/server'

/** What `serve` serves in either mode: the reranker, what to log about it, and its lifecycle. */
export interface ServedBackend {
  reranker: ServedReranker
  /** Logged with "listening on": the model, or the config file and deployment ids (never a key or URL). */
  fields: Record<string, unknown>
  /** Resolves when requests can be answered (a model loaded); rejects with the reason it never will. */
  ready(): Promise<void>
  /** After the HTTP server drained: releases models and connections. */
  close(): Promise<void>
}
