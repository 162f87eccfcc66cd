// pnpm bench:router — the router's overhead against a stub backend on loopback: (a) in process, Router.rerank
// over RerankClients vs. the same clients called directly; (b) as a proxy, the standalone server in
// load-balancer mode (built packages, as users run them) in front of the stub vs. the stub called directly;
// (c) the same server against a bare pass-through proxy (bare-proxy.ts: node:http piping bytes to the same stub),
// the floor of any proxy written in Node, with both servers' CPU time per request.
// Prints a table; the last line is one JSON object. Figures, not assertions: run by hand.
// BENCH_SECONDS (per side per round, default 0.75) and BENCH_ROUNDS (default 24) set the duration (about 4 min);
// with 12 rounds the c32 ratio still swung between 0.87 and 1.05 from run to run on this shared 2-core VM.
// BENCH_PROF_DIR=<dir>: the LB server and the bare proxy run with --cpu-prof, their profiles written there (one
// folder each) when the benchmark ends; open them in Chrome's DevTools or summarise their self times.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { RerankClient } from '@rerank-kit/client'
import { nodeHttpFetch } from '@rerank-kit/client/node'
import { type Reranker, type RerankRequest, rankScores } from '@rerank-kit/protocol'
import { Router } from '@rerank-kit/router'
import { startChild } from './child-process'
import {
  addedMeanUs,
  addedP50Ms,
  addedP99Ms,
  type Comparison,
  compare,
  cpuPerRequestRatio,
  serverCpu,
  tableHeader,
  tableRow,
  throughputRatio,
} from './comparison'
import { httpPoster } from './http-poster'
import { stubDocuments } from './stub-answer'

const timing = {
  seconds: Number(process.env.BENCH_SECONDS ?? 0.75),
  rounds: Number(process.env.BENCH_ROUNDS ?? 24),
}
const repo = join(import.meta.dirname, '../..')
const standalone = join(repo, 'examples/standalone-server')
const profileDir = process.env.BENCH_PROF_DIR ? resolve(process.env.BENCH_PROF_DIR) : undefined
const profiled = (name: string) =>
  profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []

// The same request everywhere: canonical in process, native JSON over HTTP (the group name, as a proxy gets it).
const request = {
  query: 'what is deep learning',
  documents: Array.from(
    { length: stubDocuments },
    (_, i) => `Document ${i}: deep learning is a subset of machine learning based on neural networks.`,
  ),
} satisfies RerankRequest
const body = JSON.stringify({ model: 'rerank', ...request })

for (const pkg of ['protocol', 'client', 'router', 'server']) {
  if (!existsSync(join(repo, 'packages', pkg, 'dist/index.js')))
    throw new Error(`packages/${pkg}/dist is missing: run \`pnpm bench:router\` (it builds first)`)
}

/** Two deployments of one group, so the strategy has a real choice to make. */
function routerOver(rerankers: Reranker[]) {
  return new Router({ deployments: rerankers.map((reranker) => ({ modelName: 'rerank', reranker })) })
}

const children: { kill(): boolean }[] = []
const configDir = mkdtempSync(join(tmpdir(), 'rerank-kit-bench-'))
try {
  const stub = await startChild(['stub-backend.ts'], /PORT (\d+)/, { cwd: import.meta.dirname })
  children.push(stub.child)
  const stubUrl = `http://127.0.0.1:${stub.match[1]}`

  // (a) In process; the direct calls alternate between the router's two clients.
  // The fast Node transport, as routerFromConfig uses: the slower built-in fetch would hide the router's cost.
  const transport = nodeHttpFetch()
  const clients = [0, 1].map(
    () => new RerankClient({ baseUrl: stubUrl, format: 'native', retry: false, fetch: transport }),
  )
  const router = routerOver(clients)
  let turn = 0
  const inProcess = {
    direct: () => clients[turn++ % clients.length]!.rerank(request),
    routed: () => router.rerank({ model: 'rerank', ...request }),
  }
  for (const answer of [await inProcess.direct(), await inProcess.routed()]) {
    if (answer.results.length !== stubDocuments) throw new Error('the stub answered an unexpected body')
  }
  // The router's own cost, without the network: over a backend that answers at once.
  const fixed = {
    model: 'stub',
    results: rankScores(
      request,
      request.documents.map((_, i) => 1 - i / stubDocuments),
    ),
  }
  const noop: Reranker = { rerank: async () => fixed }
  const noopRouter = routerOver([noop, noop])
  const noNetwork = {
    direct: () => noop.rerank(request),
    routed: () => noopRouter.rerank({ model: 'rerank', ...request }),
  }

  // (b) As a proxy: the standalone server from the built packages (no source condition: tsx resolves the
  // workspace packages to dist), with the same two deployments in its YAML config.
  const configPath = join(configDir, 'router.yaml')
  const deployment = ['  - model_name: rerank', '    litellm_params:', `      api_base: ${stubUrl}`]
  writeFileSync(configPath, ['model_list:', ...deployment, ...deployment].join('\n'))
  const proxy = await startChild(
    ['src/main.ts', '--port', '0', '--host', '127.0.0.1'],
    /listening on (http:\/\/[\d.]+:\d+)[\s\S]* INFO {2}ready /,
    {
      cwd: standalone,
      env: { RERANKER_LOAD_BALANCER_ENABLED: 'true', RERANKER_CONFIG_PATH: configPath },
      nodeArgs: profiled('lb-server'),
    },
  )
  children.push(proxy.child)
  const proxyUrl = proxy.match[1]!

  // (c) The floor: node:http in front of the same stub, keep-alive, no parsing (bare-proxy.ts), in its own process.
  const bare = await startChild(['bare-proxy.ts', stubUrl], /PORT (\d+)/, {
    cwd: import.meta.dirname,
    nodeArgs: profiled('bare-proxy'),
  })
  children.push(bare.child)
  const bareUrl = `http://127.0.0.1:${bare.match[1]}`

  console.log(`rerank-kit router benchmark: ${cpus()[0]?.model} x${cpus().length}, node ${process.version}`)
  console.log(
    `stub backend: node:http with a fixed native answer, own process; ${stubDocuments} documents per request; ` +
      `${timing.rounds} rounds of ${timing.seconds} s per side, alternating; ratios and p50: medians over rounds, p99: over all rounds' requests`,
  )
  // Microseconds to measure: short rounds are plenty.
  const noNetworkRun = await compare('no-op backend', 1, noNetwork, {
    ...timing,
    seconds: timing.seconds / 4,
  })
  const comparisons: Comparison[] = []
  for (const concurrency of [1, 32]) {
    comparisons.push(await compare('in-process Router', concurrency, inProcess, timing))
  }
  for (const concurrency of [1, 32]) {
    const direct = httpPoster(`${stubUrl}/rerank`, body, concurrency)
    const routed = httpPoster(`${proxyUrl}/rerank`, body, concurrency)
    comparisons.push(
      await compare('proxy (LB server)', concurrency, { direct: direct.post, routed: routed.post }, timing),
    )
    direct.close()
    routed.close()
  }
  {
    // The bare proxy is the `direct` side here: its own req/s and CPU per request, against the LB server's.
    const floor = httpPoster(`${bareUrl}/rerank`, body, 32)
    const routed = httpPoster(`${proxyUrl}/rerank`, body, 32)
    comparisons.push(
      await compare('LB vs bare proxy', 32, { direct: floor.post, routed: routed.post }, timing, {
        direct: bare.child.pid,
        routed: proxy.child.pid,
      }),
    )
    floor.close()
    routed.close()
  }
  const [inprocC1, inprocC32, proxyC1, proxyC32, versusBare] = comparisons as [
    Comparison,
    Comparison,
    Comparison,
    Comparison,
    Comparison,
  ]
  const lbCpu = serverCpu(versusBare, 'routed')
  const bareCpu = serverCpu(versusBare, 'direct')
  const stats = (await (await fetch(`${proxyUrl}/lb/stats`)).json()) as {
    deployments: { id: string; requests: number; successes: number }[]
  }

  console.log('')
  console.log(tableHeader)
  for (const comparison of comparisons) console.log(tableRow(comparison))
  console.log(
    `router alone (no-op backend, no network): +${addedMeanUs(noNetworkRun).toFixed(1)} µs per call`,
  )
  console.log(
    `LB vs bare proxy at 32 connections, CPU time per request (median of rounds, all threads): LB server ` +
      `${lbCpu.usPerRequest.toFixed(1)} µs (${(100 * lbCpu.busy).toFixed(0)}% busy), bare proxy ` +
      `${bareCpu.usPerRequest.toFixed(1)} µs (${(100 * bareCpu.busy).toFixed(0)}% busy), ratio ` +
      `${cpuPerRequestRatio(versusBare).toFixed(2)}`,
  )
  console.log(
    `LB server: ${stats.deployments.map((d) => `${d.id} ${d.successes}/${d.requests} ok`).join(', ')}`,
  )
  if (profileDir)
    console.log(`CPU profiles: ${profileDir}/lb-server and ${profileDir}/bare-proxy, once they exit`)
  const round3 = (value: number) => Number(value.toFixed(3))
  const round1 = (value: number) => Number(value.toFixed(1))
  console.log(
    JSON.stringify({
      // Throughput under load (32 callers), where the router's own CPU cost shows; latency at 1 caller.
      inproc_ratio: round3(throughputRatio(inprocC32)),
      inproc_ratio_c1: round3(throughputRatio(inprocC1)),
      inproc_added_p50_ms: round3(addedP50Ms(inprocC1)),
      proxy_added_p50_ms: round3(addedP50Ms(proxyC1)),
      proxy_added_p99_ms: round3(addedP99Ms(proxyC1)),
      proxy_ratio_c32: round3(throughputRatio(proxyC32)),
      // The LB server against the bare pass-through proxy, both in front of the same stub, 32 connections.
      proxy_ratio_c32_vs_bare: round3(throughputRatio(versusBare)),
      proxy_cpu_us_c32: round1(lbCpu.usPerRequest),
      bare_proxy_cpu_us_c32: round1(bareCpu.usPerRequest),
      proxy_cpu_ratio_c32_vs_bare: round3(cpuPerRequestRatio(versusBare)),
      router_self_us: round3(addedMeanUs(noNetworkRun)),
    }),
  )
} finally {
  for (const child of children) child.kill()
  rmSync(configDir, { recursive: true, force: true })
}
