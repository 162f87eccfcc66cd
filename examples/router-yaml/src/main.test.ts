import { join } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectScores } from '../../test-support/example-app-spec'
import { fixtureModelPath, killExamples, startExampleApp } from '../../test-support/run-example'

// The example runs as its own process (port 0): its router, built from router.yaml, fronts two backends over the
// test model, so every answer must carry the scores of an in-process LocalReranker over that model.

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

const query = 'capital of France'
const documents = ['Berlin is the capital of Germany.', 'Paris is the capital of France.', 'Bananas.']

let app: Awaited<ReturnType<typeof startExampleApp>>
let expected: [number, number][]
beforeAll(async () => {
  const reference = await LocalReranker.create({ models: [{ model: fixtureModelPath }] })
  try {
    ;[app, expected] = await Promise.all([
      startExampleApp(join(import.meta.dirname, '..')),
      reference
        .rerank({ query, documents })
        .then(({ results }) => results.map(({ index, score }) => [index, score] as [number, number])),
    ])
  } finally {
    await reference.close()
  }
}, 90_000)
afterAll(() => killExamples())

describe('router-yaml', () => {
  it('routes reranks to both backends with the in-process scores; /lb/stats shows both served', async () => {
    expect(app.output()).toMatch(
      /^backend A at http:\/\/127\.0\.0\.1:\d+, backend B at http:\/\/127\.0\.0\.1:\d+$/m,
    )
    // Round-robin over the two deployments: four requests, one format after the other, reach both.
    for (let i = 0; i < 2; i++) {
      const native = await post(`${app.url}/rerank`, { model: 'rerank', query, documents })
      expect(native.status).toBe(200)
      const nativeBody = (await native.json()) as { results: { index: number; relevance_score: number }[] }
      expectScores(
        nativeBody.results.map((result) => [result.index, result.relevance_score]),
        expected,
      )
      const cohere = await post(`${app.url}/v1/rerank`, { model: 'rerank', query, documents, top_n: 2 })
      expect(cohere.status).toBe(200)
      const cohereBody = (await cohere.json()) as { results: { index: number; relevance_score: number }[] }
      expectScores(
        cohereBody.results.map((result) => [result.index, result.relevance_score]),
        expected.slice(0, 2),
      )
    }

    const models = (await (await fetch(`${app.url}/v1/models`)).json()) as { data: { id: string }[] }
    expect(models.data.map((model) => model.id)).toEqual(['rerank'])
    const stats = (await (await fetch(`${app.url}/lb/stats`)).json()) as {
      strategy: string
      deployments: { id: string; group: string; requests: number; successes: number }[]
    }
    expect(stats.strategy).toBe('round-robin')
    expect(stats.deployments.map((deployment) => deployment.id)).toEqual(['rerank#0', 'rerank#1'])
    for (const deployment of stats.deployments) {
      expect(deployment.group).toBe('rerank')
      expect(deployment.successes).toBeGreaterThan(0)
    }
    expect(stats.deployments.reduce((sum, deployment) => sum + deployment.successes, 0)).toBe(4)
    // Ids and group names only: the backends' addresses stay out of the stats.
    expect(JSON.stringify(stats)).not.toContain('127.0.0.1')
  })

  it('answers a group it does not have with a 404', async () => {
    const unknown = await post(`${app.url}/rerank`, { model: 'no-such-group', query, documents })
    expect(unknown.status).toBe(404)
  })

  it('exits 0 on SIGTERM', async () => {
    app.child.kill('SIGTERM')
    expect(await app.exited, app.output()).toBe(0)
    expect(app.output()).toContain('router-yaml stopped')
  })
})
