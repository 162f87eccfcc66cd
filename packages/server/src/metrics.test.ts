import { describe, expect, it } from 'vitest'
import { HttpMetrics } from './metrics'

describe('HttpMetrics', () => {
  it('renders cumulative histogram buckets, +Inf equal to the count', () => {
    const metrics = new HttpMetrics()
    // One under the first bound, two between 0.01 and 0.025, one exactly on 5 (le is inclusive), one past 30.
    for (const seconds of [0.001, 0.02, 0.02, 5, 100]) metrics.record('/rerank', 200, seconds)
    const lines = metrics.render(undefined).split('\n')
    const bucket = (le: string) =>
      lines.find((line) =>
        line.startsWith(`rerank_kit_http_request_duration_seconds_bucket{route="/rerank",le="${le}"}`),
      )
    expect(bucket('0.005')).toMatch(/ 1$/)
    expect(bucket('0.01')).toMatch(/ 1$/)
    expect(bucket('0.025')).toMatch(/ 3$/)
    expect(bucket('2.5')).toMatch(/ 3$/)
    expect(bucket('5')).toMatch(/ 4$/)
    expect(bucket('30')).toMatch(/ 4$/)
    expect(bucket('+Inf')).toMatch(/ 5$/)
    expect(lines).toContain('rerank_kit_http_request_duration_seconds_count{route="/rerank"} 5')
    expect(lines).toContain('rerank_kit_http_request_duration_seconds_sum{route="/rerank"} 105.041')
  })
})
