import { createRequire } from 'node:module'

/** One metric family as parse-prometheus-text-format reads it: a real parser of the text format, no regexes. */
export interface ParsedFamily {
  name: string
  help: string
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
  metrics: {
    value?: string
    labels?: Record<string, string>
    buckets?: Record<string, string>
    count?: string
    sum?: string
  }[]
}

// The package ships CommonJS without types.
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => ParsedFamily[]

/** Parses Prometheus text exposition; throws on text a scraper would reject. */
export function parsePrometheus(text: string): ParsedFamily[] {
  return parse(text)
}
