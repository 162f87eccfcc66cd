import { median, percentile, type RunSummary, runLoop, summarise } from './load-loop'
import { cpuMicros } from './process-cpu'

/** Direct and routed runs of one scenario: one summary per round each, and every latency of every round. */
export interface Comparison {
  label: string
  concurrency: number
  direct: RunSummary[]
  routed: RunSummary[]
  latenciesMs: { direct: number[]; routed: number[] }
  /**
   * Per round, where a side's server process was given (and /proc exists): its CPU time (all threads) per
   * request, in µs, and how busy it was (CPU time over the round's wall time; above 1 with GC threads).
   */
  cpu: { direct: ServerCpu[]; routed: ServerCpu[] }
}

export interface ServerCpu {
  usPerRequest: number
  busy: number
}

/**
 * Direct and routed runs with the same load generator, in alternating order round after round (A/B, B/A...),
 * so slow drift of a shared 2-core machine falls on both. Throughput ratios and p50 differences are taken
 * within a round, then their median over rounds is reported; p99 comes from all rounds' latencies together
 * (one short round holds too few requests for a steady p99). `servers`: the pid of each side's server process,
 * whose CPU time per request is then measured round by round too.
 */
export async function compare(
  label: string,
  concurrency: number,
  calls: { direct: () => Promise<unknown>; routed: () => Promise<unknown> },
  timing: { seconds: number; rounds: number },
  servers: { direct?: number | undefined; routed?: number | undefined } = {},
): Promise<Comparison> {
  // Warm-up: JIT, connections, the router's latency window.
  await runLoop(calls.direct, concurrency, Math.min(1, timing.seconds))
  await runLoop(calls.routed, concurrency, Math.min(1, timing.seconds))
  const result: Comparison = {
    label,
    concurrency,
    direct: [],
    routed: [],
    latenciesMs: { direct: [], routed: [] },
    cpu: { direct: [], routed: [] },
  }
  for (let round = 0; round < timing.rounds; round++) {
    const order = round % 2 === 0 ? (['direct', 'routed'] as const) : (['routed', 'direct'] as const)
    for (const which of order) {
      const before = cpuMicros(servers[which])
      const run = await runLoop(calls[which], concurrency, timing.seconds)
      const after = cpuMicros(servers[which])
      if (before !== undefined && after !== undefined) {
        const used = after - before
        result.cpu[which].push({ usPerRequest: used / run.requests, busy: used / (run.elapsedMs * 1000) })
      }
      result[which].push(summarise(run))
      for (const ms of run.latenciesMs) result.latenciesMs[which].push(ms)
    }
  }
  return result
}

const withinRounds = (c: Comparison, f: (routed: RunSummary, direct: RunSummary) => number) =>
  median(c.routed.map((routed, i) => f(routed, c.direct[i]!)))

/** Routed throughput / direct throughput. */
export const throughputRatio = (c: Comparison) => withinRounds(c, (routed, direct) => routed.rps / direct.rps)
export const addedP50Ms = (c: Comparison) => withinRounds(c, (routed, direct) => routed.p50Ms - direct.p50Ms)
const pooledP99 = (c: Comparison, which: 'direct' | 'routed') => percentile(c.latenciesMs[which], 99)
export const addedP99Ms = (c: Comparison) => pooledP99(c, 'routed') - pooledP99(c, 'direct')
/** Median over rounds of each side's server CPU per request (µs) and busy share; NaN where not measured. */
export const serverCpu = (c: Comparison, which: 'direct' | 'routed') => ({
  usPerRequest: c.cpu[which].length ? median(c.cpu[which].map((cpu) => cpu.usPerRequest)) : Number.NaN,
  busy: c.cpu[which].length ? median(c.cpu[which].map((cpu) => cpu.busy)) : Number.NaN,
})
/** The routed server's CPU per request over the direct one's, within rounds (median); NaN where not measured. */
export const cpuPerRequestRatio = (c: Comparison) =>
  c.cpu.routed.length && c.cpu.routed.length === c.cpu.direct.length
    ? median(c.cpu.routed.map((routed, i) => routed.usPerRequest / c.cpu.direct[i]!.usPerRequest))
    : Number.NaN
/** Added time per call from throughput at concurrency 1: finer than percentiles for microsecond costs. */
export const addedMeanUs = (c: Comparison) =>
  withinRounds(c, (routed, direct) => 1e6 / routed.rps - 1e6 / direct.rps)

export const tableHeader = `${'scenario'.padEnd(22)} ${'conc'.padStart(4)}   direct: req/s  p50 ms  p99 ms   routed: req/s  p50 ms  p99 ms   ratio +p50 ms +p99 ms`

export function tableRow(c: Comparison): string {
  const figures = (which: 'direct' | 'routed') =>
    [
      median(c[which].map((r) => r.rps)).toFixed(0),
      median(c[which].map((r) => r.p50Ms)).toFixed(3),
      pooledP99(c, which).toFixed(3),
    ]
      .map((figure, i) => figure.padStart(i === 0 ? 13 : 7))
      .join(' ')
  const added = [
    throughputRatio(c).toFixed(3).padStart(5),
    ...[addedP50Ms(c), addedP99Ms(c)].map((ms) => ms.toFixed(3).padStart(7)),
  ]
  return `${c.label.padEnd(22)} ${String(c.concurrency).padStart(4)}   ${figures('direct')}   ${figures('routed')}   ${added.join(' ')}`
}
