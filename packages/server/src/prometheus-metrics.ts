import type { HistogramSnapshot } from '@rerank-kit/protocol'
import {
  Counter,
  register as defaultRegistry,
  Gauge,
  Histogram,
  type Metric,
  type Registry,
} from 'prom-client'

/**
 * The handler's metrics, through prom-client on a registry the host passes (prom-client's default registry
 * otherwise): a host that already serves `/metrics` for its own metrics gets ours beside them. Names follow
 * Prometheus conventions (`_total`, `_seconds`); labels are bounded sets (route table, family, status, served
 * model, group and deployment ids): never a query, a key or a URL.
 *
 * HTTP series are recorded as requests end. The reranker's series (a router's per deployment, a local
 * engine's per model) are read from its `stats()` when the registry is scraped. Several handlers may share
 * one registry: the series are registered once and every handler's reranker is read.
 */
export interface MetricsSource {
  /** The reranker's stats (`LocalReranker.stats()`, `Router.stats()`, ...), read at scrape time. */
  stats: (() => unknown) | undefined
}

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

interface HttpSeries {
  requests: Counter<'route' | 'family' | 'status' | 'status_class' | 'model'>
  duration: Histogram<'route' | 'family'>
}

const sourcesByRegistry = new WeakMap<Registry, Set<MetricsSource>>()
const httpByRegistry = new WeakMap<Registry, HttpSeries>()

export class HandlerMetrics {
  readonly registry: Registry
  private readonly http: HttpSeries

  constructor(source: MetricsSource, registry: Registry = defaultRegistry) {
    this.registry = registry
    let sources = sourcesByRegistry.get(registry)
    if (!sources) {
      sources = new Set()
      sourcesByRegistry.set(registry, sources)
      registerRerankerSeries(registry, sources)
    }
    sources.add(source)
    let http = httpByRegistry.get(registry)
    if (!http) {
      http = {
        requests: new Counter({
          name: 'rerank_kit_http_requests_total',
          help: 'Requests answered, by route, API family, status and served model.',
          labelNames: ['route', 'family', 'status', 'status_class', 'model'],
          registers: [registry],
        }),
        duration: new Histogram({
          name: 'rerank_kit_http_request_duration_seconds',
          help: 'Time to answer, by route and API family.',
          labelNames: ['route', 'family'],
          buckets: durationBuckets,
          registers: [registry],
        }),
      }
      httpByRegistry.set(registry, http)
    }
    this.http = http
  }

  /** `route` from the route table (or "other"), `model` a served model (or "none"): bounded label sets. */
  record(route: string, family: string, status: number, model: string, seconds: number): void {
    this.http.requests.inc({ route, family, status, status_class: `${Math.trunc(status / 100)}xx`, model })
    this.http.duration.observe({ route, family }, seconds)
  }

  /** The registry's text exposition: ours, and whatever else the host registered on it. */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

interface DeploymentStats {
  id: string
  group: string
  requests: number
  successes: number
  failures: Record<string, number>
  aborted: number
  inFlight: number
  coolingUntil?: string
  rpmUsed: number
  tpmUsed: number
  /** Every attempt's duration in seconds, as cumulative buckets. */
  attemptSeconds?: HistogramSnapshot
}

interface EngineStats {
  requests: number
  failedRequests: number
  pairs: number
  tokens?: number
  paddedTokens?: number
  batches: number
  meanBatchSize: number
  paddingRatio: number
  queuedPairs: number
  runningBatches: number
  batchSize?: HistogramSnapshot
  batchPaddingRatio?: HistogramSnapshot
  workerRestarts?: number
  /** The execution provider the model runs on (cpu, cuda, webgpu, ...). */
  provider?: string
}

/** A router's stats: a `deployments` list. */
function deploymentsOf(stats: unknown): DeploymentStats[] {
  const list = (stats as { deployments?: unknown } | undefined)?.deployments
  return Array.isArray(list) ? (list as DeploymentStats[]) : []
}

/** A local engine's stats: one record of counters per served model. */
function enginesOf(stats: unknown): [string, EngineStats][] {
  if (typeof stats !== 'object' || stats === null || 'deployments' in stats) return []
  return Object.entries(stats).filter(
    (entry): entry is [string, EngineStats] =>
      typeof entry[1] === 'object' &&
      entry[1] !== null &&
      typeof (entry[1] as EngineStats).pairs === 'number',
  )
}

/**
 * The reranker series, each filled from every source's stats when scraped. Counters carry the reranker's own
 * running totals (set, not incremented, at each scrape: the totals are kept by the reranker).
 */
function registerRerankerSeries(registry: Registry, sources: ReadonlySet<MetricsSource>) {
  const snapshots = async () =>
    Promise.all([...sources].map(async (source) => (source.stats ? await source.stats() : undefined)))
  // One read per scrape, shared by every series below (each one's collect() asks for it).
  let pending: Promise<unknown[]> | undefined
  const read = () => {
    pending ??= snapshots().finally(() => {
      setImmediate(() => {
        pending = undefined
      })
    })
    return pending
  }
  const deploymentLabels = ['group', 'deployment'] as const
  type Fill<L extends string> = (
    set: (labels: Record<L, string>, value: number) => void,
    stats: unknown[],
  ) => void
  /** A series whose values are set from the stats at each scrape: a counter (`_total`) or a gauge. */
  const series =
    (kind: 'counter' | 'gauge') =>
    <L extends string>(name: string, help: string, labelNames: readonly L[], fill: Fill<L>) => {
      const options = { name, help, labelNames, registers: [registry] }
      if (kind === 'gauge') {
        return new Gauge({
          ...options,
          async collect() {
            const stats = await read()
            this.reset()
            fill((labels, value) => this.set(labels, value), stats)
          },
        })
      }
      return new Counter({
        ...options,
        async collect() {
          const stats = await read()
          // The reranker keeps the running total: the counter is set to it (reset, then incremented by it).
          this.reset()
          fill((labels, value) => this.inc(labels, value), stats)
        },
      })
    }
  const totals = series('counter')
  const levels = series('gauge')
  const eachDeployment = (stats: unknown[], visit: (deployment: DeploymentStats) => void) => {
    for (const snapshot of stats) for (const deployment of deploymentsOf(snapshot)) visit(deployment)
  }
  const eachEngine = (stats: unknown[], visit: (model: string, engine: EngineStats) => void) => {
    for (const snapshot of stats) for (const [model, engine] of enginesOf(snapshot)) visit(model, engine)
  }

  totals(
    'rerank_kit_router_requests_total',
    'Calls the router made to each deployment, by outcome (success, a failure code, or aborted).',
    [...deploymentLabels, 'outcome'],
    (set, stats) =>
      eachDeployment(stats, (d) => {
        const labels = { group: d.group, deployment: d.id }
        set({ ...labels, outcome: 'success' }, d.successes)
        if (d.aborted > 0) set({ ...labels, outcome: 'aborted' }, d.aborted)
        for (const [code, count] of Object.entries(d.failures)) set({ ...labels, outcome: code }, count)
      }),
  )
  levels(
    'rerank_kit_router_in_flight',
    'Calls in flight to each deployment.',
    deploymentLabels,
    (set, stats) => eachDeployment(stats, (d) => set({ group: d.group, deployment: d.id }, d.inFlight)),
  )
  levels(
    'rerank_kit_router_cooling_down',
    '1 while the deployment is cooling down (skipped after failures), else 0.',
    deploymentLabels,
    (set, stats) =>
      eachDeployment(stats, (d) => set({ group: d.group, deployment: d.id }, d.coolingUntil ? 1 : 0)),
  )
  levels(
    'rerank_kit_router_rpm_used',
    'Requests sent to the deployment in this minute (shared across instances with Redis).',
    deploymentLabels,
    (set, stats) => eachDeployment(stats, (d) => set({ group: d.group, deployment: d.id }, d.rpmUsed)),
  )
  levels(
    'rerank_kit_router_tpm_used',
    'Tokens sent to the deployment in this minute (shared across instances with Redis).',
    deploymentLabels,
    (set, stats) => eachDeployment(stats, (d) => set({ group: d.group, deployment: d.id }, d.tpmUsed)),
  )
  /**
   * A histogram whose buckets the reranker keeps (a `HistogramSnapshot`: cumulative counts, sum, count): a
   * metric object of prom-client's shape, registered as is, whose `get()` writes them out at each scrape as
   * `_bucket{le}`, `_sum` and `_count` (prom-client's Histogram can only observe values one at a time).
   */
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (add: (labels: Record<L, string>, histogram: HistogramSnapshot) => void, stats: unknown[]) => void,
  ) => {
    const metric = {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      labelNames,
      async get() {
        const stats = await read()
        const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = []
        fill((labels, h) => {
          h.le.forEach((le, i) => {
            values.push({ labels: { ...labels, le }, value: h.counts[i] ?? 0, metricName: `${name}_bucket` })
          })
          values.push({ labels: { ...labels, le: '+Inf' }, value: h.count, metricName: `${name}_bucket` })
          values.push({ labels, value: h.sum, metricName: `${name}_sum` })
          values.push({ labels, value: h.count, metricName: `${name}_count` })
        }, stats)
        return { name, help, type: 'histogram', aggregator: 'sum', values }
      },
      // Nothing to reset: the reranker keeps the counts (registry.resetMetrics() calls this).
      reset() {},
    }
    // Not one of prom-client's classes, but what its registry reads of one: name, help, type, get().
    registry.registerMetric(metric as unknown as Metric)
  }
  histogram(
    'rerank_kit_router_attempt_duration_seconds',
    'Time of each call the router made to the deployment, answered, failed or aborted.',
    deploymentLabels,
    (add, stats) =>
      eachDeployment(stats, (d) => {
        if (d.attemptSeconds) add({ group: d.group, deployment: d.id }, d.attemptSeconds)
      }),
  )
  levels(
    'rerank_kit_router_state',
    "1 for the router's state store mode (redis: shared across instances, memory: this instance only).",
    ['state'],
    (set, stats) => {
      for (const snapshot of stats) {
        const state = (snapshot as { state?: unknown } | undefined)?.state
        if (state === 'redis' || state === 'memory') {
          set({ state }, 1)
          set({ state: state === 'redis' ? 'memory' : 'redis' }, 0)
        }
      }
    },
  )
  // The local engine's counters and levels, one series per model: [name, help, counter?, field].
  const engineSeries: [string, string, boolean, keyof EngineStats][] = [
    ['rerank_kit_engine_requests_total', 'Rerank calls the local model served.', true, 'requests'],
    [
      'rerank_kit_engine_failed_requests_total',
      'Rerank calls the local model failed.',
      true,
      'failedRequests',
    ],
    ['rerank_kit_engine_pairs_total', '(query, document) pairs scored.', true, 'pairs'],
    [
      'rerank_kit_engine_tokens_total',
      'Tokens of the pairs scored (special tokens included, padding excluded).',
      true,
      'tokens',
    ],
    [
      'rerank_kit_engine_padded_tokens_total',
      'Tokens the model ran, padding included.',
      true,
      'paddedTokens',
    ],
    ['rerank_kit_engine_batches_total', 'Batches run by the model.', true, 'batches'],
    [
      'rerank_kit_engine_worker_restarts_total',
      'Inference workers that died and were replaced.',
      true,
      'workerRestarts',
    ],
    ['rerank_kit_engine_queued_pairs', 'Pairs waiting for a batch (queue depth).', false, 'queuedPairs'],
    ['rerank_kit_engine_running_batches', 'Batches running now.', false, 'runningBatches'],
    ['rerank_kit_engine_mean_batch_size', 'Mean pairs per batch.', false, 'meanBatchSize'],
    [
      'rerank_kit_engine_padding_ratio',
      'Padded tokens per real token over all batches (1: no padding waste).',
      false,
      'paddingRatio',
    ],
  ]
  for (const [name, help, counter, field] of engineSeries) {
    ;(counter ? totals : levels)(name, help, ['model'], (set, stats) =>
      eachEngine(stats, (model, e) => {
        const value = e[field]
        if (typeof value === 'number') set({ model }, value)
      }),
    )
  }
  // Which execution provider serves each model: an info series, as Prometheus names them (value 1).
  levels(
    'rerank_kit_engine_info',
    'The execution provider (cpu, cuda, webgpu, ...) serving each model: 1.',
    ['model', 'provider'],
    (set, stats) =>
      eachEngine(stats, (model, engine) => {
        if (typeof engine.provider === 'string') set({ model, provider: engine.provider }, 1)
      }),
  )
  const engineHistograms: [string, string, 'batchSize' | 'batchPaddingRatio'][] = [
    ['rerank_kit_engine_batch_size', 'Pairs in each batch the model ran.', 'batchSize'],
    [
      'rerank_kit_engine_batch_padding_ratio',
      "Each batch's padded tokens per real token (1: no padding waste).",
      'batchPaddingRatio',
    ],
  ]
  for (const [name, help, field] of engineHistograms) {
    histogram(name, help, ['model'], (add, stats) =>
      eachEngine(stats, (model, e) => {
        const value = e[field]
        if (value) add({ model }, value)
      }),
    )
  }
}
