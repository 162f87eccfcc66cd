import { afterEach, describe, expect, it } from 'vitest'
import { fixtureModel, killSpawnedClis, spawnCli } from './test-support/spawn-cli'

// RERANKER_ROUTE_PREFIXES, RERANKER_MODEL_ALIASES and RERANKER_ACCEPT_ANY_MODEL through the real command:
// wrong values stop it at start with exit code 2 (the model loads after the handler is made, so aliases are
// checked once it has), right ones change what the routes answer.

afterEach(killSpawnedClis)

const serve = (env: Record<string, string>) =>
  spawnCli(['serve', '--model-path', fixtureModel, '--port', '0', '--host', '127.0.0.1'], env)

async function ready(server: ReturnType<typeof serve>): Promise<string> {
  const [, port] = (await server.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/))!
  await server.waitFor(/ INFO {2}ready /)
  return `http://127.0.0.1:${port}`
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe('serve: route prefixes and model names', () => {
  it('exits 2 naming an alias of a model not served, once the model has loaded', async () => {
    const server = serve({ RERANKER_MODEL_ALIASES: 'rerank-2=tiny-bert-reranker,rerank-v3.5=no-such-model' })
    expect(await server.exited).toBe(2)
    expect(server.stderr()).toContain(
      'rerank-kit: RERANKER_MODEL_ALIASES names models not served here: rerank-v3.5=no-such-model (served: tiny-bert-reranker)',
    )
  })

  it('exits 2 naming two families on one path, before loading the model', async () => {
    const server = serve({ RERANKER_ROUTE_PREFIXES: 'tei=/' })
    expect(await server.exited).toBe(2)
    expect(server.stderr()).toContain('Invalid RERANKER_ROUTE_PREFIXES="tei=/"')
    expect(server.stderr()).toContain("route /rerank of the tei family is already the native family's")
    expect(server.stderr()).not.toContain('model loaded')
  })

  it('moves TEI to the root and native to /native; any model name answered by the served one', async () => {
    const url = await ready(
      serve({ RERANKER_ROUTE_PREFIXES: 'tei=/,native=/native', RERANKER_ACCEPT_ANY_MODEL: 'true' }),
    )
    const tei = await post(`${url}/rerank`, { query: 'q', texts: ['a', 'b'] })
    expect(tei.status).toBe(200)
    const ranked = (await tei.json()) as { index: number; score: number }[]
    expect(ranked.map((result) => result.index).sort()).toEqual([0, 1])
    const native = await post(`${url}/native/rerank`, {
      model: 'any-name',
      query: 'q',
      documents: ['a', 'b'],
    })
    expect(native.status).toBe(200)
    const answer = (await native.json()) as {
      model: string
      results: { index: number; relevance_score: number }[]
    }
    expect(answer.model).toBe('tiny-bert-reranker')
    // The same pairs, the same model: the same scores on both routes.
    for (const result of answer.results) {
      const teiScore = ranked.find((item) => item.index === result.index)!.score
      expect(Math.abs(teiScore - result.relevance_score)).toBeLessThan(1e-6)
    }
  })
})
