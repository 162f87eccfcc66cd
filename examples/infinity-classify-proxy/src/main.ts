// Rerank routes (Cohere's /v1/rerank and the others) in front of an Infinity server that runs a decoder
// reranker (mxbai-rerank-v2, Qwen3-Reranker) as a classifier: each rerank becomes one POST /classify.
//
//   INFINITY_URL=http://127.0.0.1:7997 pnpm --filter @rerank-kit/example-infinity-classify-proxy start
//   # then: curl -s localhost:8002/v1/rerank -H 'content-type: application/json' \
//   #         -d '{"query": "capital of the US?", "documents": ["Washington, D.C.", "Carson City"]}'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RerankClient } from '@rerank-kit/client'
import { type Logger, LogThrottle } from '@rerank-kit/protocol'
import { createNodeListener, createRerankHandler, type ServedReranker } from '@rerank-kit/server'
import { describeUpstreamFailure } from './upstream-failure'
import { watchUpstreamHealth } from './upstream-health'

// 1. Settings. INFINITY_URL is where Infinity listens, with its --url-prefix if it has one (e.g.
//    http://127.0.0.1:7997/v1). The model is the `*-seq` classifier conversion Infinity serves. PORT 0 picks a
//    free port.
const infinityUrl = process.env.INFINITY_URL ?? 'http://127.0.0.1:7997'
const model = process.env.INFINITY_MODEL ?? 'michaelfeil/mxbai-rerank-large-v2-seq'
const template = process.env.PROMPT_TEMPLATE === 'qwen3-reranker' ? 'qwen3-reranker' : 'mxbai-rerank-v2'
const port = Number(process.env.PORT ?? 8002)
// Optional: Infinity's health route under INFINITY_URL (`/health`), asked every HEALTH_INTERVAL_MS.
const healthPath = process.env.INFINITY_HEALTH_PATH
const healthIntervalMs = Number(process.env.HEALTH_INTERVAL_MS ?? 5_000)
// Infinity's address as the log shows it: never a user:password in the URL, nor a query string.
const upstream = new URL(infinityUrl)
const where = `${upstream.host}${upstream.pathname.replace(/\/+$/, '')}`

// 2. The client does the translation: it renders each (query, document) pair into the model's prompt
//    (`template`), sends them to /classify (at most 2,048 per call), reads the positive label's score and
//    ranks. Long documents are clipped so the prompt's tail survives Infinity's truncation (maxInputChars).
//    It retries 429 and 503 answers by itself, waiting their Retry-After.
const infinity = new RerankClient({ baseUrl: infinityUrl, format: 'infinity-classify', model, template })

// 3. What the caller gets for a failure of Infinity's is generic (a 502 or 504); the log says why, once per
//    cause every 10 s: connection refused (ECONNREFUSED), a timeout, or the status Infinity answered. With a
//    health check, /ready answers 503 while Infinity is down, so a load balancer can route around this proxy.
const printRepeats = (message: string, fields?: Record<string, unknown>) =>
  console.error(fields?.repeated ? `${message} (and ${fields.repeated} more like it)` : message)
const print: Logger = { debug: printRepeats, info: printRepeats, warn: printRepeats, error: printRepeats }
const failures = new LogThrottle(print, 10_000)
const health = healthPath
  ? watchUpstreamHealth(
      `${infinityUrl.replace(/\/+$/, '')}/${healthPath.replace(/^\/+/, '')}`,
      where,
      (line) => console.error(line),
      healthIntervalMs,
    )
  : undefined
const reranker: ServedReranker = {
  async rerank(request, options) {
    try {
      return await infinity.rerank(request, options)
    } catch (error) {
      failures.log('error', `Infinity at ${where} failed: ${describeUpstreamFailure(error)}`, {})
      throw error
    }
  },
  // Without a health check, /ready says only that this process is up.
  get isReady() {
    return health?.healthy ?? true
  },
}

// 4. Serve it like any reranker: POST /v1/rerank and /v2/rerank (Cohere: what LiteLLM's cohere provider
//    calls), /rerank (native), /api/v1/rerank (Jina), plus /health, /openapi.json, /docs. Errors come in
//    each route family's own format (Cohere's `{"message"}`): a failure of Infinity's is a 502 (504 on a
//    timeout), an invalid request a 400 before Infinity is called.
const server = createServer(createNodeListener(createRerankHandler({ reranker })))
server.listen(port, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  console.log(`infinity-classify-proxy (${model} at ${where}) listening on http://127.0.0.1:${port}`)
})

// 5. SIGTERM: stop accepting, let requests in flight finish, exit.
process.once('SIGTERM', () => {
  health?.stop()
  server.close(() => console.log('infinity-classify-proxy stopped'))
})
