/**
 * Prometheus text exposition (format 0.0.4) with no dependency: the server's own request counters and
 * latency histogram, plus every numeric field of the reranker's stats as a gauge.
 */
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

interface RouteSeries {
  counts: Map<number, number>
  /** Requests per bucket, not cumulative: one increment a request; render() sums them up. */
  histogram: number[]
  sum: number
  count: number
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
const snake = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^a-zA-Z0-9_]/g, '_')
    .toLowerCase()

export class HttpMetrics {
  private readonly routes = new Map<string, RouteSeries>()

  /** `route` must come from a bounded set (the route table, or "other"): labels never carry raw paths. */
  record(route: string, status: number, seconds: number): void {
    let series = this.routes.get(route)
    if (!series) {
      series = { counts: new Map(), histogram: buckets.map(() => 0), sum: 0, count: 0 }
      this.routes.set(route, series)
    }
    series.counts.set(status, (series.counts.get(status) ?? 0) + 1)
    let bucket = 0
    while (bucket < buckets.length && seconds > buckets[bucket]!) bucket++
    // Past the last bound: counted only in +Inf, which is the count.
    if (bucket < buckets.length) series.histogram[bucket]!++
    series.sum += seconds
    series.count++
  }

  render(stats: unknown): string {
    const lines: string[] = []
    lines.push('# HELP rerank_kit_http_requests_total Requests answered, by route and status.')
    lines.push('# TYPE rerank_kit_http_requests_total counter')
    for (const [route, series] of this.routes) {
      for (const [status, count] of series.counts) {
        lines.push(
          `rerank_kit_http_requests_total{route="${escapeLabel(route)}",status="${status}"} ${count}`,
        )
      }
    }
    lines.push('# HELP rerank_kit_http_request_duration_seconds Time to answer, by route.')
    lines.push('# TYPE rerank_kit_http_request_duration_seconds histogram')
    for (const [route, series] of this.routes) {
      const label = `route="${escapeLabel(route)}"`
      let cumulative = 0
      buckets.forEach((bound, i) => {
        cumulative += series.histogram[i]!
        lines.push(`rerank_kit_http_request_duration_seconds_bucket{${label},le="${bound}"} ${cumulative}`)
      })
      lines.push(`rerank_kit_http_request_duration_seconds_bucket{${label},le="+Inf"} ${series.count}`)
      lines.push(`rerank_kit_http_request_duration_seconds_sum{${label}} ${series.sum}`)
      lines.push(`rerank_kit_http_request_duration_seconds_count{${label}} ${series.count}`)
    }
    lines.push(...statsGauges(stats))
    return `${lines.join('\n')}\n`
  }
}

/**
 * `{model: {pairs: 3, latencyMs: {p50: 1}}}` -> `rerank_kit_model_pairs{model="model"} 3` and
 * `rerank_kit_model_latency_ms_p50{model="model"} 1`. Only finite numbers are exported.
 */
function statsGauges(stats: unknown): string[] {
  if (typeof stats !== 'object' || stats === null) return []
  const samples = new Map<string, string[]>()
  const walk = (value: unknown, path: string[], model: string) => {
    if (typeof value === 'number' && Number.isFinite(value)) {
      const name = `rerank_kit_model_${path.map(snake).join('_')}`
      samples.set(name, [...(samples.get(name) ?? []), `${name}{model="${escapeLabel(model)}"} ${value}`])
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key], model)
    }
  }
  const flat: string[] = []
  for (const [key, value] of Object.entries(stats)) {
    // A flat counter of the reranker itself, or one object of counters per model.
    if (typeof value === 'number' && Number.isFinite(value))
      flat.push(`# TYPE rerank_kit_${snake(key)} gauge`, `rerank_kit_${snake(key)} ${value}`)
    else walk(value, [], key)
  }
  return [...flat, ...[...samples].flatMap(([name, lines]) => [`# TYPE ${name} gauge`, ...lines])]
}
