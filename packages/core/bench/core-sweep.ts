// pnpm bench:core:sweep — the local engine's throughput against concurrency: at each level, that many clients
// each send requests of SciFact abstracts one after another (closed loop) to one LocalReranker, for a fixed time.
// Same model and data as `pnpm bench:core` (MiniLM-L6-sized, random weights; `pnpm bench:model` makes it).
// Prints a table, then one JSON line, and writes an SVG chart (default docs/images/engine-throughput.svg).
// Figures, not assertions: run by hand on a quiet machine.
//
//   pnpm bench:core:sweep                                   # levels 1,2,4,8,16,32; 3 rounds of 20 s per level
//   pnpm bench:core:sweep -- --seconds 5 --rounds 1 --out /tmp/sweep.svg     # a quick check that it works
//   BENCH_SWEEP=1,4,16 pnpm bench:core:sweep                # other levels (or --levels 1,4,16)
import { setMaxListeners } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, totalmem } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { LocalReranker } from '../src/local-reranker'
import { modelDir, repo, scifactTexts } from './bench-inputs'
import { renderLineChart } from './line-chart'

const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? process.argv[at + 1] : undefined
}
const numberOption = (name: string, fallback: number) => {
  const value = Number(option(name) ?? fallback)
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} must be a positive number`)
    process.exit(2)
  }
  return value
}
const levelsText = option('levels') ?? process.env.BENCH_SWEEP ?? '1,2,4,8,16,32'
const levels = levelsText.split(',').map(Number)
if (levels.length === 0 || levels.some((level) => !Number.isInteger(level) || level < 1)) {
  console.error(`levels must be positive integers separated by commas, not "${levelsText}"`)
  process.exit(2)
}
const seconds = numberOption('seconds', 20)
const rounds = numberOption('rounds', 3)
const docsPerRequest = numberOption('docs-per-request', 16)
const corpusSize = numberOption('docs', 1000)
// pnpm runs this in packages/core; a relative --out is taken from where the command was typed (INIT_CWD).
const typedIn = process.env.INIT_CWD ?? process.cwd()
const out = resolve(typedIn, option('out') ?? join(repo, 'docs/images/engine-throughput.svg'))
const maxLength = 512

const documents = scifactTexts('corpus.jsonl', corpusSize)
const queries = scifactTexts('queries.jsonl', 256)
if (documents.length < docsPerRequest) {
  console.error(`--docs ${corpusSize} is fewer than --docs-per-request ${docsPerRequest}`)
  process.exit(2)
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

interface LevelRun {
  pairsPerSecond: number
  /** Latencies of the requests that finished before the deadline (at high concurrency, few or none). */
  latencies: number[]
  meanBatchSize: number
}

let sent = 0
/** The next request: queries and windows of the corpus in turn, so no two nearby requests are the same. */
function nextRequest() {
  const index = sent++
  const start = (index * docsPerRequest) % (documents.length - docsPerRequest + 1)
  return {
    query: queries[index % queries.length]!,
    documents: documents.slice(start, start + docsPerRequest),
  }
}

/** Every batch the engine finished: when, and how many pairs. */
const batchLog: { at: number; size: number }[] = []

/**
 * `concurrency` clients in a closed loop for `seconds`. Throughput counts the pairs of the batches that finished
 * inside the window (after a warm-up of a fifth of it, at most 3 s): a request of 16 long abstracts takes about
 * a second per client on 2 cores, so whole requests would be too coarse a unit at high concurrency. At the
 * deadline the requests still in flight are aborted (their pairs leave the queue) and the engine drains.
 */
async function runLevel(reranker: LocalReranker, concurrency: number): Promise<LevelRun> {
  const latencies: number[] = []
  const stop = new AbortController()
  setMaxListeners(0, stop.signal) // every client's call listens to it
  const started = performance.now()
  const windowStart = started + Math.min(3, seconds / 5) * 1000
  const deadline = started + seconds * 1000
  const timer = setTimeout(() => stop.abort(), deadline - started)
  batchLog.length = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stop.signal.aborted) {
        const sentAt = performance.now()
        try {
          await reranker.rerank(nextRequest(), { signal: stop.signal })
          latencies.push(performance.now() - sentAt)
        } catch (error) {
          if (!stop.signal.aborted) throw error
        }
      }
    }),
  )
  clearTimeout(timer)
  // Let the batches that were running at the deadline finish before the next level starts.
  for (;;) {
    const { queuedPairs, runningBatches } = reranker.stats().minilm!
    if (queuedPairs === 0 && runningBatches === 0) break
    await new Promise((done) => setTimeout(done, 20))
  }
  const inWindow = batchLog.filter((batch) => batch.at >= windowStart && batch.at <= deadline)
  const pairs = inWindow.reduce((sum, batch) => sum + batch.size, 0)
  return {
    pairsPerSecond: (pairs * 1000) / (deadline - windowStart),
    latencies,
    meanBatchSize: inWindow.length === 0 ? 0 : pairs / inWindow.length,
  }
}

async function main() {
  const cores = availableParallelism()
  const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} x${cores}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`
  const date = new Date().toISOString().slice(0, 10)
  console.log(`rerank-kit core sweep: ${machine}, ${date}`)
  console.log(
    `model: MiniLM-L6-sized (random weights), requests of ${docsPerRequest} SciFact abstracts (of ${documents.length}), ` +
      `max_length ${maxLength}; levels ${levels.join(', ')}; ${rounds} round(s) of ${seconds} s per level`,
  )

  const reranker = await LocalReranker.create({
    models: [{ model: modelDir, name: 'minilm', maxLength }],
    onBatch: (_model, stats) => batchLog.push({ at: performance.now(), size: stats.size }),
  })
  // Warm-up, not timed: every worker's session sees long and short inputs once.
  await Promise.all(Array.from({ length: 8 }, () => reranker.rerank(nextRequest())))
  await reranker.rerank({ query: queries[0]!, documents: documents.slice(0, 64) })

  // Rounds alternate the order of the levels (up, down, up...), so a drift of the machine's speed over the run
  // does not favour low or high concurrency; each level's figure is its median round.
  const runs = new Map<number, LevelRun[]>(levels.map((level) => [level, []]))
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? levels : [...levels].reverse()
    for (const level of order) {
      const run = await runLevel(reranker, level)
      runs.get(level)!.push(run)
      console.log(
        `  round ${round + 1}, concurrency ${level}: ${run.pairsPerSecond.toFixed(1)} pairs/s, ` +
          `mean batch ${run.meanBatchSize.toFixed(1)}, ${run.latencies.length} requests finished`,
      )
    }
  }
  await reranker.close()

  // requests/s is pairs/s over the request size; the mean latency follows from Little's law (a closed loop of
  // c clients keeps c requests in the system: latency = c / requests per second). p50 is measured, over the
  // requests that finished before the deadline (n of them), so it is missing where none did.
  const rows = levels.map((level) => {
    const levelRuns = runs.get(level)!
    const pairsPerSecond = median(levelRuns.map((run) => run.pairsPerSecond))
    const middle = levelRuns.find((run) => run.pairsPerSecond === pairsPerSecond)!
    const requestsPerSecond = pairsPerSecond / docsPerRequest
    const sorted = [...middle.latencies].sort((a, b) => a - b)
    return {
      concurrency: level,
      pairs_per_s: Number(pairsPerSecond.toFixed(1)),
      requests_per_s: Number(requestsPerSecond.toFixed(3)),
      mean_latency_ms: requestsPerSecond > 0 ? Math.round((level / requestsPerSecond) * 1000) : null,
      p50_ms: sorted.length > 0 ? Math.round(percentile(sorted, 0.5)) : null,
      finished: sorted.length,
      mean_batch: Number(middle.meanBatchSize.toFixed(1)),
    }
  })

  const header = ['concurrency', 'pairs/s', 'req/s', 'mean ms', 'p50 ms (n)', 'mean batch']
  console.log(header.map((cell) => cell.padStart(12)).join(' '))
  for (const row of rows)
    console.log(
      [
        row.concurrency,
        row.pairs_per_s,
        row.requests_per_s,
        row.mean_latency_ms ?? '-',
        `${row.p50_ms ?? '-'} (${row.finished})`,
        row.mean_batch,
      ]
        .map((cell) => String(cell).padStart(12))
        .join(' '),
    )
  console.log(
    JSON.stringify({
      machine,
      date,
      docs_per_request: docsPerRequest,
      seconds_per_level: seconds,
      rounds,
      levels: rows,
    }),
  )

  const svg = renderLineChart({
    title: 'Local engine throughput against concurrency',
    subtitle: `MiniLM-L6, ${docsPerRequest} docs per request; ${machine}; ${date}`,
    xLabel: 'concurrent requests (closed loop)',
    yLabel: 'pairs / s',
    rightAxis: { label: 'requests / s', divisor: docsPerRequest },
    xScale: 'log2',
    series: [{ name: 'pairs/s', points: rows.map((row) => ({ x: row.concurrency, y: row.pairs_per_s })) }],
  })
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, svg)
  console.log(`wrote ${relative(typedIn, out).startsWith('..') ? out : relative(typedIn, out)}`)
}

await main()
