// pnpm bench:tracing — what the OpenTelemetry spans cost a request, in process (no network): the handler over
// a Router over a reranker that answers at once, as the load-balancer server runs it (a server span, an
// attempt span, and the spans a RerankClient would open are the same helpers). Three phases in one run:
// (a) no SDK registered (what every user without tracing pays: the API's no-op path), (b) an SDK registered and
// recording every span (batched, handed to an exporter that drops them), (c) the helpers alone, against a bare
// loop. Prints µs per request and the ratios; the last line is one JSON object. Run by hand.
import { context, propagation, trace } from '@opentelemetry/api'
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node'
import { inSpan, type Reranker, rankScores, SpanKind, traceHeaders } from '@rerank-kit/protocol'
import { Router } from '@rerank-kit/router'
import { createRerankHandler, type PlainRequest } from '@rerank-kit/server'

const requests = Number(process.env.BENCH_REQUESTS ?? 200_000)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)

const body = {
  model: 'rerank',
  query: 'what is deep learning',
  documents: Array.from(
    { length: 10 },
    (_, i) => `Document ${i}: deep learning is a subset of machine learning.`,
  ),
}
const fixed = {
  results: rankScores(
    body,
    body.documents.map((_, i) => 1 - i / 10),
  ),
}
const noop: Reranker = { rerank: async () => fixed }
const handler = createRerankHandler({
  reranker: new Router({ deployments: [{ modelName: 'rerank', reranker: noop }] }),
})
const request: PlainRequest = {
  method: 'POST',
  path: '/rerank',
  headers: { 'content-type': 'application/json' },
  body,
}

/** µs per call of `run`, the median of rounds. */
async function perCall(run: () => Promise<unknown>, count = requests): Promise<number> {
  const times: number[] = []
  for (let round = 0; round < rounds; round++) {
    const started = performance.now()
    for (let i = 0; i < count; i++) await run()
    times.push(((performance.now() - started) * 1000) / count)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

const answered = await handler(request)
if (answered.status !== 200) throw new Error(`the handler answered ${answered.status}`)
const work = () => Promise.resolve(fixed)
const helpers = () =>
  inSpan('rerank.attempt', SpanKind.INTERNAL, { 'rerank.deployment.id': 'rerank#0' }, () =>
    inSpan('POST /rerank', SpanKind.CLIENT, { 'server.port': 8000 }, () => {
      traceHeaders()
      return work()
    }),
  )

const bare = await perCall(work)
const helpersOff = await perCall(helpers)
const handlerOff = await perCall(() => handler(request))

// (b) An SDK as a host registers it, every span sampled, batched and dropped by the exporter.
const dropping: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
const provider = new NodeTracerProvider({
  spanProcessors: [new BatchSpanProcessor(dropping, { maxQueueSize: 65_536, maxExportBatchSize: 4096 })],
})
provider.register()
const helpersOn = await perCall(helpers)
const handlerOn = await perCall(() => handler(request))
await provider.shutdown()
trace.disable()
context.disable()
propagation.disable()

const fixedDigits = (value: number) => Number(value.toFixed(3))
console.log(
  `rerank-kit tracing benchmark: node ${process.version}, ${requests} calls x ${rounds} rounds (median)`,
)
console.log(`bare await of an answered promise:          ${bare.toFixed(3)} µs`)
console.log(
  `attempt + client span helpers, no SDK:      ${helpersOff.toFixed(3)} µs (+${(helpersOff - bare).toFixed(3)})`,
)
console.log(
  `attempt + client span helpers, SDK on:      ${helpersOn.toFixed(3)} µs (+${(helpersOn - bare).toFixed(3)})`,
)
console.log(`handler + router per request, no SDK:       ${handlerOff.toFixed(3)} µs`)
console.log(
  `handler + router per request, SDK on:       ${handlerOn.toFixed(3)} µs (ratio ${(handlerOn / handlerOff).toFixed(3)})`,
)
console.log(
  JSON.stringify({
    bare_us: fixedDigits(bare),
    span_helpers_off_us: fixedDigits(helpersOff - bare),
    span_helpers_on_us: fixedDigits(helpersOn - bare),
    handler_off_us: fixedDigits(handlerOff),
    handler_on_us: fixedDigits(handlerOn),
    handler_on_vs_off: fixedDigits(handlerOn / handlerOff),
  }),
)
