import { afterAll, beforeAll, expect } from 'vitest'
import { fixtureModel, killSpawnedClis, spawnCli } from '../../../../packages/cli/src/test-support/spawn-cli'

// The standalone server as users run it (`rerank-kit serve`, from source), serving the fixture model under its
// own name and, through RERANKER_MODEL_ALIASES, under the model names each vendor's client sends by default.

export const apiKey = 'client-library-key'
export const servedModel = 'tiny-bert-reranker'

/** The names the clients send unless told otherwise (or that their docs show first). */
export const vendorModelNames = [
  'rerank-english-v2.0', // LangChain's and LlamaIndex's CohereRerank default
  'rerank-english-v3.0',
  'rerank-v3.5', // Cohere's current model, the AI SDK docs' example
  'Salesforce/Llama-Rank-v1', // Together's rerank model
  'rerank-2', // Voyage
  'mixedbread-ai/mxbai-rerank-large-v1', // mixedbread
]

export const query = 'how do vaccines train the immune system'
export const documents = [
  'Vaccines expose the immune system to a harmless antigen so it learns to recognise the pathogen.',
  'The stock market closed higher on Friday after a volatile week.',
  'Memory B cells formed after vaccination respond quickly to a later infection.',
  'A recipe for sourdough bread needs flour, water, salt and a starter.',
  'Adjuvants in vaccines strengthen the immune response to the antigen.',
  'Glaciers retreat as average temperatures rise.',
]

export interface Ranked {
  index: number
  score: number
}

/** Starts `rerank-kit serve` on port 0 with the API key and the vendor aliases; resolves once it is ready. */
export async function startServedModel(env: Record<string, string> = {}): Promise<string> {
  const server = spawnCli(['serve', '--model-path', fixtureModel, '--port', '0', '--host', '127.0.0.1'], {
    RERANKER_API_KEY: apiKey,
    RERANKER_MODEL_ALIASES: vendorModelNames.map((name) => `${name}=${servedModel}`).join(','),
    ...env,
  })
  const [, port] = (await server.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/))!
  await server.waitFor(/ INFO {2}ready /)
  return `http://127.0.0.1:${port}`
}

/** The native route's answer for the whole input: the reference every client's ranking is compared with. */
export async function nativeRanking(url: string): Promise<Ranked[]> {
  const response = await fetch(`${url}/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ model: servedModel, query, documents }),
  })
  expect(response.status).toBe(200)
  const answer = (await response.json()) as { results: { index: number; relevance_score: number }[] }
  const ranked = answer.results.map((result) => ({ index: result.index, score: result.relevance_score }))
  // The fixture model must tell the documents apart, or "same order" would prove nothing.
  expect(new Set(ranked.map((result) => result.score.toFixed(6))).size).toBe(documents.length)
  return ranked
}

/** Same documents in the same order as the native route's first `count`, scores within 1e-6. */
export function expectSameRanking(
  actual: readonly Ranked[],
  reference: readonly Ranked[],
  count: number,
): void {
  expect(actual.map((result) => result.index)).toEqual(
    reference.slice(0, count).map((result) => result.index),
  )
  actual.forEach((result, rank) => {
    expect(Math.abs(result.score - reference[rank]!.score), `score at rank ${rank}`).toBeLessThan(1e-6)
  })
}

/**
 * For a test file: the server started before its tests (and killed after), with the native route's ranking of
 * the shared input. Read `url` and `reference` inside tests, once beforeAll has run.
 */
export function useServedModel(env: Record<string, string> = {}): { url: string; reference: Ranked[] } {
  const served = { url: '', reference: [] as Ranked[] }
  beforeAll(async () => {
    served.url = await startServedModel(env)
    served.reference = await nativeRanking(served.url)
  }, 60_000)
  afterAll(killSpawnedClis)
  return served
}
