import { createRequire } from 'node:module'

/** One metric family as parse-prometheus-text-format reads it: a real parser of the text format, no regexes. */
export interface ParsedFamily {
  name: string
  help: string
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
  metrics: ParsedSample[]
}

export interface ParsedSample {
  value?: string
  labels?: Record<string, string>
  /** A histogram's cumulative counts by `le` (its labels, then, are the others). */
  buckets?: Record<string, string>
  count?: string
  sum?: string
}

// The package ships CommonJS without types.
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => ParsedFamily[]

/**
 * Parses Prometheus text exposition; throws on text a scraper would reject. A histogram comes back as one
 * sample per label set (`labels` without `le`, `buckets`, `sum`, `count`): the library merges every series of
 * a histogram into one and drops their labels, so its families are parsed a second time as plain samples
 * (their `# TYPE` read as untyped) and regrouped here.
 */
export function parsePrometheus(text: string): ParsedFamily[] {
  const families = parse(text)
  const histograms = new Set(
    families.filter((family) => family.type === 'HISTOGRAM').map((family) => family.name),
  )
  if (histograms.size === 0) return families
  const untyped = text
    .split('\n')
    .map((line) => {
      const type = line.startsWith('# TYPE ') ? line.slice('# TYPE '.length).trim().split(/\s+/) : []
      return type.length === 2 && histograms.has(type[0]!) && type[1] === 'histogram'
        ? `# TYPE ${type[0]} untyped`
        : line
    })
    .join('\n')
  // Read so, a name comes back once per run of its lines (`_bucket`, `_sum`, `_count` of one series, then the
  // next series'): the runs are joined.
  const plain = new Map<string, ParsedSample[]>()
  for (const family of parse(untyped)) {
    plain.set(family.name, [...(plain.get(family.name) ?? []), ...family.metrics])
  }
  return families.map((family) =>
    histograms.has(family.name) ? { ...family, metrics: regroup(family.name, plain) } : family,
  )
}

/** A histogram's `_bucket`, `_sum` and `_count` samples, one entry per label set (`le` aside). */
function regroup(name: string, plain: ReadonlyMap<string, ParsedSample[]>): ParsedSample[] {
  const byLabels = new Map<string, ParsedSample>()
  const entry = (labels: Record<string, string>) => {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))
    let sample = byLabels.get(key)
    if (!sample) {
      sample = Object.keys(labels).length > 0 ? { labels } : {}
      byLabels.set(key, sample)
    }
    return sample
  }
  for (const { labels = {}, value } of plain.get(`${name}_bucket`) ?? []) {
    const { le, ...rest } = labels
    if (le === undefined || value === undefined) throw new Error(`${name}_bucket without le`)
    const sample = entry(rest)
    sample.buckets = { ...sample.buckets, [le]: value }
  }
  for (const [suffix, field] of [
    ['_sum', 'sum'],
    ['_count', 'count'],
  ] as const) {
    for (const { labels = {}, value } of plain.get(`${name}${suffix}`) ?? []) entry(labels)[field] = value
  }
  return [...byLabels.values()]
}
