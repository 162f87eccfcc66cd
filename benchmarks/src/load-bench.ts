// pnpm bench:load — the standalone server (built CLI, fixture model) driven past its capacity. First its
// capacity (closed loop, autocannon), then twice that rate (open loop) for BENCH_SECONDS (default 60; `--soak`
// or BENCH_SOAK=1: 600). Checks that every answer is a 200 or an immediate 429/503 with Retry-After, that
// nothing times out or fails, that the server recovers and stops cleanly, and follows its RSS every second.
// The last line is one JSON object. Figures and checks, not tests: run by hand.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { percentile } from './load-loop'
import { openLoop } from './open-loop'

const soak = process.argv.includes('--soak') || process.env.BENCH_SOAK === '1'
const seconds = Number(process.env.BENCH_SECONDS ?? (soak ? 600 : 60))
const capacitySeconds = Number(process.env.BENCH_CAPACITY_SECONDS ?? 10)
// 100 documents (a rerank of a top-100): the engine is what saturates. With small requests (BENCH_DOCS=20) the
// main thread saturates first, and node accepts one connection per event-loop turn, so an open-loop client
// opening a connection per waiting request fills the listen backlog: connects then take seconds.
const documentsPerRequest = Number(process.env.BENCH_DOCS ?? 100)
// The server's deadline (`--request-timeout`): no accepted request may wait longer. The client gives up a
// little later, so a deadline the server did not keep shows as a client timeout.
const deadlineMs = Number(process.env.BENCH_DEADLINE_MS ?? 10_000)
const clientTimeoutMs = Number(process.env.BENCH_TIMEOUT_MS ?? deadlineMs + 5_000)
const capacityConnections = 32
const progressEvery = soak ? 30 : 5

const repo = join(import.meta.dirname, '../..')
const bin = join(repo, 'packages/cli/bin/rerank-kit.js')
const model = join(repo, 'fixtures/models/tiny-bert-reranker')
for (const pkg of ['protocol', 'core', 'server', 'cli']) {
  if (!existsSync(join(repo, 'packages', pkg, 'dist/index.js')))
    throw new Error(`packages/${pkg}/dist is missing: run \`pnpm bench:load\` (it builds first)`)
}

const body = JSON.stringify({
  query: 'what is the capital of France',
  documents: Array.from(
    { length: documentsPerRequest },
    (_, i) => `Document ${i}: Paris is the capital and largest city of France, on the Seine (${i}).`,
  ),
  return_documents: false,
})

const round = (value: number, digits = 1) => Number(value.toFixed(digits))
const mib = (kib: number) => round(kib / 1024)

function rssKib(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) : 0
}

// The built command, as users run it; its log goes to stderr, where it says its port.
const server = spawn(
  process.execPath,
  [
    bin,
    'serve',
    '--model-path',
    model,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--request-timeout',
    String(deadlineMs),
  ],
  { cwd: repo, env: { ...process.env, RERANKER_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
)
let log = ''
server.stderr.on('data', (chunk: Buffer) => {
  log += chunk.toString()
})
const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)))
async function waitForLog(pattern: RegExp): Promise<RegExpExecArray> {
  for (let i = 0; i < 1200; i++) {
    const match = pattern.exec(log)
    if (match) return match
    if (server.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`the server did not log ${pattern}:\n${log}`)
}

try {
  const base = (await waitForLog(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!
  await waitForLog(/ INFO {2}ready /)
  const url = `${base}/rerank`
  const pid = server.pid!

  // RSS and /ready once a second, for the whole run.
  const rss: { second: number; kib: number }[] = []
  const readyStatuses: Record<string, number> = {}
  const startedAt = performance.now()
  const sampler = setInterval(() => {
    rss.push({ second: Math.round((performance.now() - startedAt) / 1000), kib: rssKib(pid) })
    fetch(`${base}/ready`, { signal: AbortSignal.timeout(900) })
      .then(async (response) => {
        const status =
          response.status === 200 ? 'ready' : ((await response.json()) as { status: string }).status
        readyStatuses[status] = (readyStatuses[status] ?? 0) + 1
      })
      .catch(() => {
        readyStatuses['no answer within 0.9 s'] = (readyStatuses['no answer within 0.9 s'] ?? 0) + 1
      })
  }, 1000)

  console.log(`rerank-kit load benchmark: ${cpus()[0]?.model} x${cpus().length}, node ${process.version}`)
  console.log(
    `rerank-kit serve --model-path fixtures/models/tiny-bert-reranker (built), native /rerank with ${documentsPerRequest} documents; ` +
      `server deadline ${deadlineMs} ms; client timeout ${clientTimeoutMs} ms`,
  )
  const closedLoop = (duration: number) =>
    autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections: capacityConnections,
      duration,
    })
  await closedLoop(3) // warm-up (JIT, first batches)
  const capacityRun = await closedLoop(capacitySeconds)
  if (capacityRun.non2xx + capacityRun.errors + capacityRun.timeouts > 0)
    throw new Error(`the capacity run had failures: ${JSON.stringify(capacityRun.statusCodeStats)}`)
  const capacity = capacityRun.requests.average
  const rate = Math.round(2 * capacity)
  console.log(
    `capacity: ${round(capacity)} req/s (${Math.round(capacity * documentsPerRequest)} pairs/s; ${capacityConnections} connections, ${capacitySeconds} s, p50 ${capacityRun.latency.p50} ms, p99 ${capacityRun.latency.p99} ms)`,
  )
  console.log(`overload: ${rate} req/s (2x capacity), open loop, for ${seconds} s`)

  const rssAtStart = rssKib(pid)
  const overloadFrom = rss.length
  const run = await openLoop({
    url,
    body,
    rate,
    seconds,
    timeoutMs: clientTimeoutMs,
    onSecond: (second, sofar) => {
      if (second % progressEvery !== 0) return
      const answered = Object.values(sofar.statuses).reduce((sum, count) => sum + count, 0)
      console.log(
        `  t=${String(second).padStart(4)} s  rss ${mib(rssKib(pid))} MiB  sent ${sofar.sent}  in flight ${sofar.sent - answered - sofar.timeouts - Object.values(sofar.errors).reduce((a, b) => a + b, 0)}  ` +
          `statuses ${JSON.stringify(sofar.statuses)}  timeouts ${sofar.timeouts}  errors ${JSON.stringify(sofar.errors)}`,
      )
    },
  })

  const overloadTo = rss.length
  // Recovery: the queue drains, /ready says ready again, and a request is answered.
  let recovered = false
  for (let i = 0; i < 600 && !recovered; i++) {
    recovered = (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200
    if (!recovered) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const after = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const afterResults = ((await after.json()) as { results?: unknown[] }).results?.length
  recovered &&= after.status === 200 && afterResults === documentsPerRequest
  const stats = (await (await fetch(`${base}/stats`)).json()) as Record<string, Record<string, unknown>>
  clearInterval(sampler)

  server.kill('SIGTERM')
  const exitCode = await exited

  const statuses = run.statuses
  const ok = statuses[200] ?? 0
  const refused = (statuses[503] ?? 0) + (statuses[429] ?? 0)
  const other = Object.entries(statuses)
    .filter(([status]) => !['200', '429', '503'].includes(status))
    .reduce((sum, [, count]) => sum + count, 0)
  const fivexxOther = Object.entries(statuses)
    .filter(([status]) => Number(status) >= 500 && status !== '503')
    .reduce((sum, [, count]) => sum + count, 0)
  const errors = Object.values(run.errors).reduce((sum, count) => sum + count, 0)
  const pct = (values: number[], p: number) => (values.length ? round(percentile(values, p)) : 0)
  const max = (values: number[]) => round(values.reduce((a, b) => Math.max(a, b), 0))
  // The samples taken while the overload ran (the open loop ends when the last accepted request is answered).
  const overloadRss = rss.slice(overloadFrom, overloadTo).filter((sample) => sample.kib > 0)
  const first = rssAtStart
  const last = overloadRss.at(-1)?.kib ?? rssAtStart
  // RSS saws up and down with garbage collection: a leak shows as higher peaks, so halves compare by their peak.
  const half = Math.floor(overloadRss.length / 2)
  const peak = (samples: { kib: number }[]) => Math.max(0, ...samples.map((sample) => sample.kib))
  const firstHalfPeak = peak(overloadRss.slice(0, half)) || rssAtStart
  const secondHalfPeak = peak(overloadRss.slice(half)) || firstHalfPeak
  const maxRss = Math.max(first, ...overloadRss.map((sample) => sample.kib))
  const engine = Object.values(stats)[0] ?? {}

  const figures = {
    docs_per_request: documentsPerRequest,
    capacity_rps: round(capacity),
    offered_rps: rate,
    seconds,
    sent: run.sent,
    statuses,
    ok_rps: round((ok / run.elapsedMs) * 1000),
    goodput_ratio: round(ok / run.elapsedMs / (capacity / 1000), 3),
    refused_share: round(refused / run.sent, 3),
    refused_without_retry_after: run.refusalsWithoutRetryAfter,
    other_statuses: other,
    other_5xx: fivexxOther,
    timeouts: run.timeouts,
    errors: run.errors,
    ok_latency_ms: {
      p50: pct(run.latencyMs.ok, 50),
      p99: pct(run.latencyMs.ok, 99),
      max: max(run.latencyMs.ok),
    },
    refused_latency_ms: {
      p50: pct(run.latencyMs.refused, 50),
      p99: pct(run.latencyMs.refused, 99),
      max: max(run.latencyMs.refused),
    },
    server_deadline_ms: deadlineMs,
    client_timeout_ms: clientTimeoutMs,
    ready_samples: readyStatuses,
    rss_mib: {
      first: mib(first),
      first_half_peak: mib(firstHalfPeak),
      second_half_peak: mib(secondHalfPeak),
      last: mib(last),
      max: mib(maxRss),
      growth_pct: round(((last - first) / first) * 100),
      peak_growth_pct: round(((secondHalfPeak - firstHalfPeak) / firstHalfPeak) * 100),
    },
    engine: {
      requests: engine.requests,
      failed_requests: engine.failedRequests,
      pairs: engine.pairs,
      mean_batch_size: typeof engine.meanBatchSize === 'number' ? round(engine.meanBatchSize) : undefined,
    },
    recovered,
    exit_code: exitCode,
  }
  const checks = {
    only_200_429_503: other === 0,
    retry_after_on_every_refusal: run.refusalsWithoutRetryAfter === 0,
    no_5xx_but_503: fivexxOther === 0,
    no_timeouts_or_errors: run.timeouts === 0 && errors === 0,
    // "Immediate": a refusal is not queued; it waits only for the event loop.
    refusals_within_1s: figures.refused_latency_ms.max < 1000,
    accepted_within_deadline: figures.ok_latency_ms.max <= deadlineMs,
    overload_was_refused: refused > 0,
    rss_peak_growth_below_10pct: figures.rss_mib.peak_growth_pct < 10,
    recovered,
    exit_0_on_sigterm: exitCode === 0,
  }

  console.log(
    `RSS (MiB) every second from the warm-up on (the overload: samples ${overloadFrom + 1} to ${overloadTo}):`,
  )
  for (let i = 0; i < rss.length; i += 10) {
    console.log(
      `  ${String(rss[i]!.second).padStart(4)} s: ${rss
        .slice(i, i + 10)
        .map((sample) => mib(sample.kib))
        .join(' ')}`,
    )
  }
  console.log(
    `RSS over the overload: first ${figures.rss_mib.first}, last ${figures.rss_mib.last}, max ${figures.rss_mib.max} MiB; ` +
      `growth ${figures.rss_mib.growth_pct} %; peak of the first half ${figures.rss_mib.first_half_peak}, of the second ${figures.rss_mib.second_half_peak} (${figures.rss_mib.peak_growth_pct} %)`,
  )
  console.log(
    `answers: ${JSON.stringify(statuses)}; ${figures.ok_rps} ok/s (goodput ${figures.goodput_ratio} of capacity); ` +
      `refused ${round(figures.refused_share * 100)} %, ${run.refusalsWithoutRetryAfter} without Retry-After; timeouts ${run.timeouts}; errors ${JSON.stringify(run.errors)}`,
  )
  console.log(
    `latency: accepted p50 ${figures.ok_latency_ms.p50} / p99 ${figures.ok_latency_ms.p99} / max ${figures.ok_latency_ms.max} ms; ` +
      `refused p50 ${figures.refused_latency_ms.p50} / p99 ${figures.refused_latency_ms.p99} / max ${figures.refused_latency_ms.max} ms`,
  )
  console.log(
    `/ready samples: ${JSON.stringify(readyStatuses)}; recovered: ${recovered}; exit code ${exitCode}`,
  )
  for (const [check, passed] of Object.entries(checks)) console.log(`${passed ? 'PASS' : 'FAIL'} ${check}`)
  const serverErrors = log.split('\n').filter((line) => / ERROR /.test(line))
  if (serverErrors.length > 0)
    console.log(`server errors logged: ${serverErrors.length}, first: ${serverErrors[0]}`)
  if (!Object.values(checks).every(Boolean)) process.exitCode = 1
  console.log(JSON.stringify({ ...figures, checks }))
} finally {
  if (server.exitCode === null) server.kill('SIGKILL')
}
