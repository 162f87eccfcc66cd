import { type RerankCallOptions, RerankError, type RerankRequest } from '@rerank-kit/protocol'
import type { ServedReranker } from './handler-types'

export interface InFlightLimitOptions {
  /** Rerank calls that may run at once; the next one is refused at once with `overloaded` (503). */
  maxInFlight: number
  /** The wait a refusal advises (Retry-After). Default: 1 s. */
  retryAfterMs?: number
}

/** A served reranker with a cap on its calls in flight, and the count of those. */
export interface InFlightLimitedReranker extends ServedReranker {
  readonly inFlight: number
}

/**
 * Admission control for a reranker with no queue limit of its own (a router over remote backends): at most
 * `maxInFlight` calls run at once. At the cap it reports `isSaturated`, so the handler refuses before decoding
 * the body and /ready says `saturated`; a call past the cap (one that was already being read) is refused with
 * `overloaded` and a Retry-After. Without a cap a flood would wait in the upstream connection pools until the
 * request deadline, holding memory and sockets all along, and the client would learn nothing until then.
 */
export function limitInFlight(
  reranker: ServedReranker,
  options: InFlightLimitOptions,
): InFlightLimitedReranker {
  const { maxInFlight, retryAfterMs = 1000 } = options
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new TypeError(`maxInFlight must be an integer >= 1 (got ${maxInFlight})`)
  }
  let inFlight = 0
  return {
    async rerank(request: RerankRequest, callOptions?: RerankCallOptions) {
      if (inFlight >= maxInFlight) {
        throw new RerankError(
          'overloaded',
          `The server is at its limit of ${maxInFlight} requests in flight`,
          {
            retryAfterMs,
          },
        )
      }
      inFlight++
      try {
        return await reranker.rerank(request, callOptions)
      } finally {
        inFlight--
      }
    },
    get inFlight() {
      return inFlight
    },
    get isSaturated() {
      return inFlight >= maxInFlight || reranker.isSaturated === true
    },
    // What the handler reads of the reranker passes through, getters included (they change over time).
    get modelNames() {
      return reranker.modelNames
    },
    get isReady() {
      return reranker.isReady
    },
    get loadFailed() {
      return reranker.loadFailed
    },
    get unavailableReason() {
      return reranker.unavailableReason
    },
    ...(reranker.servesModel && { servesModel: (name: string) => reranker.servesModel!(name) }),
    ...(reranker.stats && { stats: () => reranker.stats!() }),
  }
}
