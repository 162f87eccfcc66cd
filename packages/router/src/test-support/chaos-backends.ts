/**
 * Fake vendor backends on 127.0.0.1 that each misbehave the same way on every request, with a RerankClient
 * deployment for each: the cast of the router's chaos tests. The fakes live in the client's test support
 * (not published), reached by relative path like the adapters reach the server's.
 */
import { RerankClient } from '@rerank-kit/client'
import {
  type FakeFault,
  type FakeVendor,
  startFakeVendor,
} from '../../../client/src/test-support/fake-vendors'
import type { RouterDeployment } from '../deployment-runtime'

export interface ChaosBehaviour {
  /** The fake's wire format (and so the client's): several, so every parser is in the path. */
  kind: 'tei' | 'cohere' | 'jina'
  /** Applied to every request; none: a correct answer at once. */
  fault?: FakeFault
  /** The client's deadline: long by default, so a loaded machine never times out a correct answer. */
  timeoutMs?: number
  /** Every answer it gives is correct: the only kind a successful request may have been served by. */
  healthy: boolean
}

export const chaosBehaviours = {
  'always-500': { kind: 'tei', fault: { status: 500, message: 'backend exploded' }, healthy: false },
  // Retry-After far beyond the router's cooldown, so honouring it is visible.
  'rate-limited': {
    kind: 'cohere',
    fault: { status: 429, headers: { 'retry-after': '60' } },
    healthy: false,
  },
  hangs: { kind: 'jina', fault: { delayMs: 60_000 }, timeoutMs: 300, healthy: false },
  resets: { kind: 'tei', fault: { destroy: true }, healthy: false },
  'malformed-json': { kind: 'cohere', fault: { malformedJson: true }, healthy: false },
  slow: { kind: 'jina', fault: { delayMs: 100 }, healthy: true },
  'healthy-cohere': { kind: 'cohere', healthy: true },
  'healthy-tei': { kind: 'tei', healthy: true },
} satisfies Record<string, ChaosBehaviour>

export type ChaosName = keyof typeof chaosBehaviours

export const chaosNames = Object.keys(chaosBehaviours) as ChaosName[]

export const failingNames = chaosNames.filter((name) => !chaosBehaviours[name].healthy)

/** Router settings for one deployment, and the client's deadline. */
export type DeploymentOverrides = Pick<RouterDeployment, 'priority' | 'maxParallelRequests'> & {
  timeoutMs?: number
}

export interface ChaosBackend {
  name: ChaosName
  /** The fake; its `requests` log is what each test checks the router against. */
  vendor: FakeVendor
  /** A deployment of group `chaos` (id = name) calling the fake with retries off: the router does them. */
  deployment(overrides?: DeploymentOverrides): RouterDeployment
}

/** Every fake demands a key starting with this (so one search finds a leak in stats or errors). */
export const chaosKeyPrefix = 'sk-chaos-'

export async function startChaosBackends(names: readonly ChaosName[]): Promise<ChaosBackend[]> {
  return Promise.all(
    names.map(async (name) => {
      const behaviour: ChaosBehaviour = chaosBehaviours[name]
      const apiKey = `${chaosKeyPrefix}${name}`
      const vendor = await startFakeVendor(behaviour.kind, { apiKey, fault: () => behaviour.fault })
      return {
        name,
        vendor,
        deployment: ({ timeoutMs, ...settings }: DeploymentOverrides = {}) => ({
          id: name,
          modelName: 'chaos',
          ...settings,
          reranker: new RerankClient({
            baseUrl: vendor.url,
            format: behaviour.kind,
            apiKey,
            // Jina requires a model; the others take it as a label.
            model: 'chaos-model',
            retry: false,
            timeoutMs: timeoutMs ?? behaviour.timeoutMs ?? 10_000,
          }),
        }),
      }
    }),
  )
}

/** How many times each backend received the request with this query (backends that never saw it left out). */
export function receivedBy(
  backends: readonly ChaosBackend[],
  query: string,
): Partial<Record<ChaosName, number>> {
  const seen: Partial<Record<ChaosName, number>> = {}
  for (const backend of backends) {
    const count = backend.vendor.requests.filter(
      (request) => (request.body as { query?: unknown } | undefined)?.query === query,
    ).length
    if (count > 0) seen[backend.name] = count
  }
  return seen
}

export const chaosDocuments = ['red apple pie', 'green pear', 'apple']

/** A query unique to request `n` (the backends' logs find it by this), scoring the same for every n. */
export const chaosQuery = (n: number, tag = 'r') => `red apple ${tag}${n}`

/**
 * The one correct answer for any chaosQuery over chaosDocuments, in absolute scores: the fakes score the
 * share of query words in the document, and the query has 3 words (red, apple, the request's tag).
 */
export const chaosExpectedResults = [
  { index: 0, score: 2 / 3 },
  { index: 2, score: 1 / 3 },
  { index: 1, score: 0 },
]
