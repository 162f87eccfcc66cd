// RerankClient against a rerank-kit server: the same documents reranked over two wire formats, and an error.
//
//   pnpm --filter @rerank-kit/example-client-usage start                          # starts its own server
//   pnpm --filter @rerank-kit/example-client-usage start http://127.0.0.1:8000    # or uses yours
//   RERANKER_API_KEY=... pnpm --filter @rerank-kit/example-client-usage start URL   # a server that wants a key
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { describeError, RerankClient, RerankError } from '@rerank-kit/client'
import { LocalReranker } from '@rerank-kit/core'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'

// 1. A server to talk to: the URL given on the command line, or one started here over the tiny test model.
//    (The client itself never loads a model: it only needs @rerank-kit/client.)
let baseUrl = process.argv[2]
let stopServer = async () => {}
if (!baseUrl) {
  const model = resolve(import.meta.dirname, '../../../fixtures/models/tiny-bert-reranker')
  const reranker = await LocalReranker.create({ models: [{ model, name: 'tiny-bert-reranker' }] })
  const server = createServer(createNodeListener(createRerankHandler({ reranker })))
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening)) // port 0: any free port
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  stopServer = async () => {
    await new Promise((closed) => server.close(closed))
    await reranker.close()
  }
  console.log(`started a rerank-kit server at ${baseUrl}`)
}

const query = 'What is the capital of France?'
const documents = [
  'Berlin is the capital of Germany.',
  'Paris is the capital and largest city of France.',
  'Bananas are rich in potassium.',
  'France is a country in Western Europe.',
]

// A server started with RERANKER_API_KEY wants the same key: the client sends it as a Bearer token.
const apiKey = process.env.RERANKER_API_KEY || undefined

// 2. One client per wire format. 'native' calls POST /rerank; 'cohere' calls POST /v1/rerank, as Cohere's API
//    (any Cohere-compatible server works). Both return the same canonical response: results sorted best first,
//    each with the document's index in `documents` and a score in [0, 1].
try {
  for (const format of ['native', 'cohere'] as const) {
    const client = new RerankClient({ baseUrl, format, apiKey })
    const { results } = await client.rerank({ query, documents, topN: 3 })
    console.log(`\n${format}: top ${results.length} of ${documents.length}`)
    for (const { index, score } of results)
      console.log(`  ${score.toFixed(6)}  [${index}] ${documents[index]}`)
  }
} catch (error) {
  // A server that is down, or that wants a key we lack: one line saying so, not a stack trace.
  await stopServer()
  if (!(error instanceof RerankError)) throw error
  const hint = error.code === 'unauthorized' ? " (set RERANKER_API_KEY to the server's key)" : ''
  // describeError names an HTTP status only when one came back: a server that is down answered nothing.
  console.error(`${baseUrl}: ${describeError(error)}${hint}`)
  process.exit(1)
}

// 3. Errors: every failure is a RerankError with a machine-readable code, a message, whether a retry may help
//    and, when a server answered, its HTTP status (upstreamStatus). The native format carries the server's exact code.
try {
  await new RerankClient({ baseUrl, format: 'native', apiKey }).rerank({
    model: 'no-such-model',
    query,
    documents,
  })
} catch (error) {
  if (!(error instanceof RerankError)) throw error
  console.log(`\nerror: ${describeError(error)}`)
}

await stopServer()
