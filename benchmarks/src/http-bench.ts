// pnpm bench:http — our rerank route on each adapter (stub reranker) against a bare JSON route of the same
// framework. Prints a table; the last line is one JSON object. Figures, not assertions: run by hand.
import { spawn } from 'node:child_process'
import { cpus } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { frameworks, requestBody } from './bench-apps'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = 16

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
  const child = spawn(
    join(import.meta.dirname, '../node_modules/.bin/tsx'),
    // The built packages (dist), as users run them: `pnpm bench:http` builds first.
    [join(import.meta.dirname, 'http-server.ts'), framework],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const port = await new Promise<number>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString())
      if (match) resolve(Number(match[1]))
    })
  })
  const base = `http://127.0.0.1:${port}`
  try {
    await run(`${base}/bare`, 2) // warm-up (JIT) for both routes
    await run(`${base}/reranker/v1/rerank`, 2)
    const bare = await run(`${base}/bare`, seconds)
    const ours = await run(`${base}/reranker/v1/rerank`, seconds)
    if (bare.non2xx + ours.non2xx + bare.errors + ours.errors > 0)
      throw new Error(`${framework}: non-2xx answers or errors`)
    return {
      bare_rps: Math.round(bare.requests.average),
      ours_rps: Math.round(ours.requests.average),
      ratio: Number((ours.requests.average / bare.requests.average).toFixed(3)),
      p50_ms: ours.latency.p50,
      p99_ms: ours.latency.p99,
      bare_p50_ms: bare.latency.p50,
      bare_p99_ms: bare.latency.p99,
    }
  } finally {
    child.kill()
  }
}

console.log(`rerank-kit HTTP benchmark: ${cpus()[0]?.model} x${cpus().length}, node ${process.version}`)
console.log(
  `autocannon, ${connections} connections, ${seconds} s per route, Cohere /v1/rerank with 10 documents`,
)
const results: Record<string, Awaited<ReturnType<typeof measure>>> = {}
for (const framework of frameworks) {
  const result = await measure(framework)
  results[framework] = result
  console.log(
    `${framework.padEnd(8)} bare ${String(result.bare_rps).padStart(6)} req/s (p50 ${result.bare_p50_ms} ms, p99 ${result.bare_p99_ms} ms)` +
      `   ours ${String(result.ours_rps).padStart(6)} req/s (p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms)   ratio ${result.ratio}`,
  )
}
console.log(
  JSON.stringify(
    Object.fromEntries(
      Object.entries(results).map(([name, r]) => [
        name,
        { bare_rps: r.bare_rps, ours_rps: r.ours_rps, ratio: r.ratio, p50_ms: r.p50_ms, p99_ms: r.p99_ms },
      ]),
    ),
  ),
)
