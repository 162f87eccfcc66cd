import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { HandlerMetrics } from './prometheus-metrics'
import { parsePrometheus } from './test-support/parse-prometheus'

// The reranker's histograms and counters as /metrics shows them: stats of the shapes LocalReranker.stats() and
// Router.stats() return, turned into Prometheus series at scrape time, parsed with a real text-format parser.

const attemptLe = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const routerStats = {
  strategy: 'simple-shuffle',
  state: 'redis',
  deployments: [
    {
      id: 'rerank#0',
      group: 'rerank',
      requests: 3,
      successes: 2,
      failures: { upstream_error: 1 },
      aborted: 0,
      inFlight: 0,
      rpmUsed: 3,
      tpmUsed: 90,
      attemptSeconds: {
        le: attemptLe,
        counts: [0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3],
        sum: 0.91,
        count: 3,
      },
    },
    {
      id: 'rerank#1',
      group: 'rerank',
      requests: 0,
      successes: 0,
      failures: {},
      aborted: 0,
      inFlight: 0,
      rpmUsed: 0,
      tpmUsed: 0,
      attemptSeconds: { le: attemptLe, counts: attemptLe.map(() => 0), sum: 0, count: 0 },
    },
  ],
}
const engineStats = {
  bert: {
    requests: 2,
    failedRequests: 0,
    pairs: 70,
    batches: 3,
    meanBatchSize: 70 / 3,
    paddingRatio: 1.1,
    pairsPerSecond: 500,
    queuedPairs: 0,
    runningBatches: 0,
    batchSize: { le: [1, 2, 4, 8, 16, 32, 64], counts: [0, 0, 0, 1, 1, 1, 3], sum: 70, count: 3 },
    batchPaddingRatio: { le: [1, 1.25, 2], counts: [1, 2, 3], sum: 3.5, count: 3 },
    workerRestarts: 2,
    latencyMs: { p50: 1, p95: 2, p99: 3 },
    provider: 'cpu',
  },
}

const scrape = async (registry: Registry) => {
  const families = parsePrometheus(await registry.metrics())
  return (name: string) => families.find((family) => family.name === name)
}

describe('HandlerMetrics: histograms kept by the reranker', () => {
  it("writes the router's attempt durations per group and deployment as a Prometheus histogram", async () => {
    const registry = new Registry()
    new HandlerMetrics({ stats: async () => routerStats }, registry)
    const family = await scrape(registry)
    const attempts = family('rerank_kit_router_attempt_duration_seconds')!
    expect(attempts.type).toBe('HISTOGRAM')
    const bucketsOf = (counts: number[], count: number) =>
      Object.fromEntries([
        ...attemptLe.map((le, i) => [String(le), String(counts[i])]),
        ['+Inf', String(count)],
      ])
    expect(attempts.metrics).toEqual([
      {
        labels: { group: 'rerank', deployment: 'rerank#0' },
        buckets: bucketsOf(routerStats.deployments[0]!.attemptSeconds.counts, 3),
        sum: '0.91',
        count: '3',
      },
      {
        labels: { group: 'rerank', deployment: 'rerank#1' },
        buckets: bucketsOf(
          attemptLe.map(() => 0),
          0,
        ),
        sum: '0',
        count: '0',
      },
    ])
    // The quantile gauge it replaces is gone; the store's mode is one series per mode.
    expect(family('rerank_kit_router_attempt_latency_seconds')).toBeUndefined()
    expect(family('rerank_kit_router_state')!.metrics).toEqual([
      { labels: { state: 'redis' }, value: '1' },
      { labels: { state: 'memory' }, value: '0' },
    ])
  })

  it("writes the local engine's batch size and padding histograms and its worker restarts per model", async () => {
    const registry = new Registry()
    new HandlerMetrics({ stats: () => engineStats }, registry)
    const family = await scrape(registry)
    expect(family('rerank_kit_engine_batch_size')).toMatchObject({
      type: 'HISTOGRAM',
      metrics: [
        {
          labels: { model: 'bert' },
          buckets: { 1: '0', 2: '0', 4: '0', 8: '1', 16: '1', 32: '1', 64: '3', '+Inf': '3' },
          sum: '70',
          count: '3',
        },
      ],
    })
    expect(family('rerank_kit_engine_batch_padding_ratio')).toMatchObject({
      type: 'HISTOGRAM',
      metrics: [
        {
          labels: { model: 'bert' },
          buckets: { 1: '1', 1.25: '2', 2: '3', '+Inf': '3' },
          sum: '3.5',
          count: '3',
        },
      ],
    })
    expect(family('rerank_kit_engine_worker_restarts_total')).toMatchObject({
      type: 'COUNTER',
      metrics: [{ labels: { model: 'bert' }, value: '2' }],
    })
    // A router's stats add no engine series, and an engine's no router series.
    expect(family('rerank_kit_router_attempt_duration_seconds')?.metrics ?? []).toEqual([])
  })

  it('reads every handler sharing a registry, registers each series once, and follows the counts as they move', async () => {
    const registry = new Registry()
    let stats = routerStats
    new HandlerMetrics({ stats: () => stats }, registry)
    // A second handler on the same registry: no "already registered" error, and its engine is read too.
    expect(() => new HandlerMetrics({ stats: () => engineStats }, registry)).not.toThrow()
    let family = await scrape(registry)
    expect(family('rerank_kit_router_attempt_duration_seconds')!.metrics).toHaveLength(2)
    expect(family('rerank_kit_engine_batch_size')!.metrics).toHaveLength(1)
    const [first] = routerStats.deployments
    stats = {
      ...routerStats,
      deployments: [
        {
          ...first!,
          attemptSeconds: {
            ...first!.attemptSeconds,
            counts: first!.attemptSeconds.counts.map((n) => n + 1),
          },
        },
      ],
    }
    stats.deployments[0]!.attemptSeconds.count = 4
    // One read of the stats serves every series of a scrape (and scrapes in the same turn of the event loop).
    await new Promise((resolve) => setImmediate(resolve))
    family = await scrape(registry)
    expect(family('rerank_kit_router_attempt_duration_seconds')!.metrics).toEqual([
      expect.objectContaining({ labels: { group: 'rerank', deployment: 'rerank#0' }, count: '4' }),
    ])
    // JSON too (prom-client's getMetricsAsJSON reads the same get()).
    const json = await registry.getMetricsAsJSON()
    expect(json.find((metric) => metric.name === 'rerank_kit_engine_batch_size')?.type).toBe('histogram')
  })
})

describe('parsePrometheus', () => {
  it('keeps the labels of each series of a labelled histogram', () => {
    const text = [
      '# HELP h_seconds A histogram.',
      '# TYPE h_seconds histogram',
      'h_seconds_bucket{le="0.1",path="/a"} 1',
      'h_seconds_bucket{le="+Inf",path="/a"} 2',
      'h_seconds_sum{path="/a"} 0.35',
      'h_seconds_count{path="/a"} 2',
      'h_seconds_bucket{le="0.1",path="/b"} 0',
      'h_seconds_bucket{le="+Inf",path="/b"} 1',
      'h_seconds_sum{path="/b"} 3',
      'h_seconds_count{path="/b"} 1',
      '# HELP plain_total A counter.',
      '# TYPE plain_total counter',
      'plain_total 4',
      '',
    ].join('\n')
    expect(parsePrometheus(text)).toEqual([
      {
        name: 'h_seconds',
        help: 'A histogram.',
        type: 'HISTOGRAM',
        metrics: [
          { labels: { path: '/a' }, buckets: { 0.1: '1', '+Inf': '2' }, sum: '0.35', count: '2' },
          { labels: { path: '/b' }, buckets: { 0.1: '0', '+Inf': '1' }, sum: '3', count: '1' },
        ],
      },
      { name: 'plain_total', help: 'A counter.', type: 'COUNTER', metrics: [{ value: '4' }] },
    ])
  })
})
