import { type Reranker, type RerankRequest, type RerankResponse, rankScores } from '@rerank-kit/protocol'

/**
 * A small deterministic Reranker for HTTP tests: a document's score is the share of query words it contains,
 * so every expected score is known exactly. It records calls (with their abort signals) and can be slowed.
 */
export class OverlapReranker implements Reranker {
  readonly modelNames = ['overlap', 'overlap-alias']
  isReady = true
  calls: { request: RerankRequest; signal?: AbortSignal }[] = []
  delayMs = 0

  static score(query: string, document: string): number {
    const words = query.toLowerCase().split(/\W+/).filter(Boolean)
    const text = document.toLowerCase()
    // A query without words matches nothing (and must not score 0/0 = NaN).
    return words.length === 0 ? 0 : words.filter((word) => text.includes(word)).length / words.length
  }

  async rerank(request: RerankRequest, options: { signal?: AbortSignal } = {}): Promise<RerankResponse> {
    this.calls.push({ request, ...(options.signal && { signal: options.signal }) })
    if (this.delayMs > 0) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, this.delayMs)
        options.signal?.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(options.signal!.reason)
        })
      })
    }
    const scores = request.documents.map((doc) =>
      OverlapReranker.score(request.query, typeof doc === 'string' ? doc : (doc.text ?? '')),
    )
    return {
      model: request.model ?? 'overlap',
      results: rankScores(request, scores),
      usage: { totalTokens: 42 },
    }
  }

  stats() {
    return { calls: this.calls.length }
  }
}
