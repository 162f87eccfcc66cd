/**
 * In-process deployments whose answers are scripted, and a router over them with a clock the test moves: the
 * router tests' fixtures (router.test.ts keeps its own copy of the same few lines).
 */
import {
  codeFromStatus,
  RerankError,
  type Reranker,
  type RerankRequest,
  type RerankResponse,
  rankScores,
} from '@rerank-kit/protocol'
import type { RouterDeployment } from '../deployment-runtime'
import { Router, type RouterOptions } from '../router'

export type Step = 'ok' | RerankError | { delayMs: number }

// Orders calls across deployments exactly (timestamps can tie).
let sequence = 0

/** A deployment that answers from a script (then "ok" forever) and records what it was asked, and when. */
export function scripted(name: string, steps: Step[] = []) {
  const calls: RerankRequest[] = []
  const callTimes: number[] = []
  const callSequence: number[] = []
  const reranker: Reranker = {
    async rerank(request, options) {
      calls.push(request)
      callTimes.push(performance.now())
      callSequence.push(sequence++)
      const step = steps.shift() ?? 'ok'
      if (step instanceof RerankError) throw step
      if (step !== 'ok') {
        await new Promise((resolve) => setTimeout(resolve, step.delayMs))
        if (options?.signal?.aborted) throw new RerankError('aborted', 'aborted')
      }
      return scriptedAnswer(request, name)
    },
  }
  return { name, reranker, calls, callTimes, callSequence }
}

/** What every scripted deployment answers: scores 1/2, 1/3, ... in document order, and 10 tokens. */
export function scriptedAnswer(request: RerankRequest, model: string): RerankResponse {
  return {
    model,
    results: rankScores(
      request,
      request.documents.map((_, i) => 1 / (i + 2)),
    ),
    usage: { totalTokens: 10 },
  }
}

/** An upstream's error answer, as a RerankClient reports it. */
export const upstream = (status: number, retryAfterMs?: number, message = `HTTP ${status}`) =>
  new RerankError(codeFromStatus(status), message, {
    upstreamStatus: status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  })

export const request = { query: 'q', documents: ['a', 'b'] }

/** A router over `deployments` with a 1 ms backoff, round-robin, and a clock `advance` moves. */
export function testRouter(deployments: RouterDeployment[], options: Partial<RouterOptions> = {}) {
  let clock = Date.UTC(2026, 10, 23, 12, 0, 0)
  const router = new Router({
    deployments,
    routingStrategy: 'round-robin',
    retryDelayMs: 1,
    readinessRefreshMs: 0,
    now: () => clock,
    ...options,
  })
  const advance = (ms: number) => {
    clock += ms
  }
  return { router, advance, now: () => clock }
}

/** Which deployments (by name) a test's deployments answered, in call order. */
export function callOrder(...deployments: ReturnType<typeof scripted>[]): string[] {
  return deployments
    .flatMap((deployment) => deployment.callSequence.map((at) => ({ at, name: deployment.name })))
    .sort((left, right) => left.at - right.at)
    .map((call) => call.name)
}
