import type { RerankCallOptions, RerankRequest } from './rerank-request'
import type { RerankResponse } from './rerank-response'

/**
 * Everything in rerank-kit is a Reranker: a local model, a client of a remote endpoint, a router over many of
 * them. The HTTP layer serves any of them. Implementations reject with a `RerankError`.
 */
export interface Reranker {
  rerank(request: RerankRequest, options?: RerankCallOptions): Promise<RerankResponse>
}
