// pnpm bench:http — our rerank route on each adapter (stub reranker) against a bare JSON route of the same
// framework. Prints a table; the last line is one JSON object. Figures, not assertions: run by hand.
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { frameworks, requestBody } from './bench-apps'
import { startChild } from './child-process'
import { cpuMicros } from './process-cpu'

// Many short rounds rather than a few long ones: the median ratio then rests on more pairs.
const seconds = Number(process.env.BENCH_SECONDS ?? 2)
const rounds = Number(process.env.BENCH_ROUNDS ?? 10)
const connections = 16

/**
 * The server on the last core, autocannon (this process, all its threads) on the others, as if on two
 * machines. Unpinned, the scheduler moves both between the cores of a small machine: the same build measured
 * 0.63 to 0.71 on Fastify from run to run, every request costing the server 50% more CPU than pinned, and
 * the load generator's share of the cores went into the ratio. BENCH_PIN=0 measures unpinned.
 */
function pinCores(): { server: string; load: string } | undefined {
  const count = cpus().length
  if (process.env.BENCH_PIN === '0' || count < 2) return undefined
  const pins = { server: String(count - 1), load: count === 2 ? '0' : `0-${count - 2}` }
  try {
    execFileSync('taskset', ['-a', '-p', '-c', pins.load, String(process.pid)], { stdio: 'ignore' })
    return pins
  } catch {
    return undefined // no taskset (macOS): unpinned
  }
}
const pinning = pinCores()

/** Linear interpolation between the closest ranks. */
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  return sorted[low]! + (sorted[Math.ceil(at)]! - sorted[low]!) * (at - low)
}
const median = (values: number[]) => quantile(values, 0.5)

function run(url: string, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: requestBody,
    connections,
    duration,
  })
}

async function measure(framework: string) {
  // The built packages (dist), as users run them: `pnpm bench:http` builds first. Node itself with tsx's
  // loader (startChild), not the tsx CLI: /proc shows the CPU time of the pid we hold, and a kill reaches it.
  const { child, match } = await startChild(
    [join(import.meta.dirname, 'http-server.ts'), framework],
    /PORT (\d+)/,
  )
  // Pinned once started, every thread (-a), before the warm-up rounds.
  if (pinning)
    execFileSync('taskset', ['-a', '-p', '-c', pinning.server, String(child.pid)], { stdio: 'ignore' })
  const port = Number(match[1])
  const base = `http://127.0.0.1:${port}`
  try {
    await run(`${base}/bare`, 2) // warm-up (JIT) for both routes
    await run(`${base}/reranker/v1/rerank`, 2)
    // Alternating rounds (bare, ours / ours, bare ...): the speed of a shared 2-core VM drifts by tens of per
    // cent over a minute, which a single long run of each side puts entirely into the ratio.
    const runs = { bare: [] as autocannon.Result[], ours: [] as autocannon.Result[] }
    // Server CPU microseconds per request, and the share of its core it used, per round.
    const cpu = { bare: [] as number[], ours: [] as number[] }
    const busy = { bare: [] as number[], ours: [] as number[] }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['bare', 'ours'] as const) : (['ours', 'bare'] as const)
      for (const side of order) {
        const before = cpuMicros(child.pid)
        const result = await run(side === 'bare' ? `${base}/bare` : `${base}/reranker/v1/rerank`, seconds)
        const after = cpuMicros(child.pid)
        runs[side].push(result)
        if (before !== undefined && after !== undefined && result.requests.total > 0) {
          cpu[side].push((after - before) / result.requests.total)
          busy[side].push((after - before) / (result.duration * 1e6))
        }
      }
    }
    const all = [...runs.bare, ...runs.ours]
    if (all.some((result) => result.non2xx + result.errors > 0)) {
      throw new Error(`${framework}: non-2xx answers or errors`)
    }
    const ratios = runs.ours.map((ours, i) => ours.requests.average / runs.bare[i]!.requests.average)
    const rps = (side: autocannon.Result[]) => Math.round(median(side.map((r) => r.requests.average)))
    const latency = (side: autocannon.Result[], p: 'p50' | 'p99') => median(side.map((r) => r.latency[p]))
    const measuredCpu = cpu.bare.length === rounds && cpu.ours.length === rounds
    const cpuRatios = measuredCpu ? cpu.bare.map((bare, i) => bare / cpu.ours[i]!) : []
    return {
      bare_rps: rps(runs.bare),
      ours_rps: rps(runs.ours),
      // Within each round, then the median over rounds.
      ratio: Number(median(ratios).toFixed(3)),
      // The middle half of the rounds' ratios: how much the machine moved while measuring.
      ratio_q1: Number(quantile(ratios, 0.25).toFixed(3)),
      ratio_q3: Number(quantile(ratios, 0.75).toFixed(3)),
      p50_ms: latency(runs.ours, 'p50'),
      p99_ms: latency(runs.ours, 'p99'),
      bare_p50_ms: latency(runs.bare, 'p50'),
      bare_p99_ms: latency(runs.bare, 'p99'),
      // Bare's server CPU per request over ours, within each round: the throughput ratio of a saturated
      // server. When autocannon cannot saturate the server (busy well under 1), the req/s ratio is partly
      // the load generator's and this one is the server's own.
      ...(measuredCpu && {
        cpu_ratio: Number(median(cpuRatios).toFixed(3)),
        bare_cpu_us: Number(median(cpu.bare).toFixed(1)),
        ours_cpu_us: Number(median(cpu.ours).toFixed(1)),
        bare_busy: Number(median(busy.bare).toFixed(2)),
        ours_busy: Number(median(busy.ours).toFixed(2)),
      }),
    }
  } finally {
    child.kill()
  }
}

console.log(`rerank-kit HTTP benchmark: ${cpus()[0]?.model} x${cpus().length}, node ${process.version}`)
console.log(
  `autocannon, ${connections} connections, ${rounds} alternating rounds of ${seconds} s per route (medians), Cohere /v1/rerank with 10 documents`,
)
console.log(
  pinning
    ? `pinned: server on cpu ${pinning.server}, autocannon on cpu ${pinning.load} (BENCH_PIN=0 for unpinned)`
    : 'unpinned: server and autocannon share the cores',
)
const results: Record<string, Awaited<ReturnType<typeof measure>>> = {}
// BENCH_FRAMEWORKS=fastify,koa measures some of them.
const chosen = process.env.BENCH_FRAMEWORKS?.split(',') ?? frameworks
for (const framework of frameworks.filter((name) => chosen.includes(name))) {
  const result = await measure(framework)
  results[framework] = result
  console.log(
    `${framework.padEnd(8)} bare ${String(result.bare_rps).padStart(6)} req/s (p50 ${result.bare_p50_ms} ms, p99 ${result.bare_p99_ms} ms)` +
      `   ours ${String(result.ours_rps).padStart(6)} req/s (p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms)   ratio ${result.ratio} (rounds' middle half ${result.ratio_q1} to ${result.ratio_q3})`,
  )
  if (result.cpu_ratio !== undefined) {
    console.log(
      `${''.padEnd(8)} server CPU per request: bare ${result.bare_cpu_us} us, ours ${result.ours_cpu_us} us, ratio ${result.cpu_ratio}` +
        ` (server busy ${Math.round((result.bare_busy ?? 0) * 100)}% / ${Math.round((result.ours_busy ?? 0) * 100)}% of its core)`,
    )
  }
}
console.log(
  JSON.stringify(
    Object.fromEntries(
      Object.entries(results).map(([name, r]) => [
        name,
        {
          bare_rps: r.bare_rps,
          ours_rps: r.ours_rps,
          ratio: r.ratio,
          p50_ms: r.p50_ms,
          p99_ms: r.p99_ms,
          ...(r.cpu_ratio !== undefined && { cpu_ratio: r.cpu_ratio }),
        },
      ]),
    ),
  ),
)
