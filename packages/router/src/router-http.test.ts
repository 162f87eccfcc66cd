import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RerankClient } from '@rerank-kit/client'
import { type Reranker, rankScores } from '@rerank-kit/protocol'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseRouterConfig } from './config'
import { Router } from './router'
import { routerFromConfig } from './router-from-config'

// The router over real RerankClients and real HTTP: rerank-kit servers on port 0, one endpoint that refuses
// connections, and the router itself served by the HTTP layer.

const overlap: Reranker = {
  async rerank(request) {
    const words = new Set(request.query.toLowerCase().split(/\W+/))
    const scores = request.documents.map((document) => {
      const text = (typeof document === 'string' ? document : (document.text ?? ''))
        .toLowerCase()
        .split(/\W+/)
      return text.filter((word) => words.has(word)).length / Math.max(1, text.length)
    })
    return { model: 'overlap', results: rankScores(request, scores) }
  },
}

const servers: Server[] = []
async function listen(server: Server): Promise<string> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

let backend: string
let refused: string
beforeAll(async () => {
  backend = await listen(
    createServer(createNodeListener(createRerankHandler({ reranker: overlap, apiKeys: ['secret-a'] }))),
  )
  const closed = createServer()
  refused = await listen(closed)
  await new Promise((resolve) => closed.close(resolve))
})
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

describe('Router over RerankClients', () => {
  it('fails over from a refused endpoint to a live one; stats carry no key and no URL', async () => {
    const router = new Router({
      routingStrategy: 'priority-failover',
      deployments: [
        {
          modelName: 'rr',
          priority: 0,
          reranker: new RerankClient({ baseUrl: refused, format: 'native', retry: false }),
        },
        {
          modelName: 'rr',
          priority: 1,
          reranker: new RerankClient({
            baseUrl: backend,
            format: 'cohere',
            apiKey: 'secret-a',
            retry: false,
          }),
        },
      ],
    })
    const response = await router.rerank({
      query: 'red apple',
      documents: ['green pear', 'red apple pie', 'red'],
    })
    expect(response.results).toEqual([
      { index: 2, score: 1 },
      { index: 1, score: 2 / 3 },
      { index: 0, score: 0 },
    ])
    const stats = await router.stats()
    expect(stats.deployments.map((d) => [d.id, d.requests, d.successes, d.failures])).toEqual([
      ['rr#0', 1, 0, { network_error: 1 }],
      ['rr#1', 1, 1, {}],
    ])
    const text = JSON.stringify(stats)
    expect(text).not.toContain('secret-a')
    expect(text).not.toContain('127.0.0.1')
  })

  it('is served by the HTTP layer: /v1/models lists the groups, /lb/stats the deployments', async () => {
    const router = new Router({
      deployments: [
        {
          modelName: 'rr',
          // Cohere's format: its answers carry the backend's own id and model, which the router must not pass on.
          reranker: new RerankClient({ baseUrl: backend, format: 'cohere', apiKey: 'secret-a' }),
        },
      ],
    })
    const url = await listen(createServer(createNodeListener(createRerankHandler({ reranker: router }))))
    const answer = await fetch(`${url}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'rr', query: 'red apple', documents: ['red', 'blue'] }),
    })
    expect(answer.status).toBe(200)
    const body = (await answer.json()) as { id: string; model?: string; results: unknown[] }
    expect(body.results).toEqual([
      { index: 0, relevance_score: 1 },
      { index: 1, relevance_score: 0 },
    ])
    // The group the caller named (what /v1/models lists), not the backend's model ('overlap'); the id is this
    // server's request id, not the one the backend gave its own answer.
    expect(body.model).toBe('rr')
    expect(body.id).toBe(answer.headers.get('x-request-id'))
    const direct = await new RerankClient({ baseUrl: backend, format: 'cohere', apiKey: 'secret-a' }).rerank({
      query: 'red apple',
      documents: ['red'],
    })
    expect(direct).toMatchObject({ model: 'overlap', id: expect.any(String) })
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] }
    expect(models.data.map((model) => model.id)).toEqual(['rr'])
    const stats = (await (await fetch(`${url}/lb/stats`)).json()) as {
      deployments: { id: string; successes: number }[]
    }
    expect(stats.deployments).toEqual([expect.objectContaining({ id: 'rr#0', successes: 1 })])
  })
})

describe('routerFromConfig', () => {
  it('builds clients from a LiteLLM-shaped config and falls back to the local model', async () => {
    const config = parseRouterConfig(
      {
        model_list: [
          { model_name: 'rr', litellm_params: { model: 'cohere/rerank-v3', api_base: refused, rpm: 5 } },
          {
            model_name: 'rr',
            litellm_params: {
              model: 'cohere/rerank-v3',
              api_base: backend,
              api_key: 'os.environ/KEY_A',
              order: 1,
            },
          },
          { model_name: 'dead', litellm_params: { api_base: refused, format: 'tei' } },
          { model_name: 'local-model', litellm_params: { model: 'local' } },
        ],
        router_settings: {
          routing_strategy: 'priority-failover',
          fallbacks: [{ dead: ['local-model'] }],
          num_retries: 1,
          retry_delay: 0,
        },
      },
      { KEY_A: 'secret-a' },
    )
    const router = routerFromConfig(config, { local: overlap })
    const live = await router.rerank({ model: 'rr', query: 'red apple', documents: ['red', 'blue'] })
    expect(live.results).toEqual([
      { index: 0, score: 1 },
      { index: 1, score: 0 },
    ])
    const rescued = await router.rerank({ model: 'dead', query: 'red apple', documents: ['blue', 'apple'] })
    // Answered in the caller's words: the group it asked for, though the local model served it.
    expect(rescued).toEqual({
      model: 'dead',
      results: [
        { index: 1, score: 1 },
        { index: 0, score: 0 },
      ],
      // dead#0 twice, then the local model's deployment.
      routing: { deployment: 'local-model#0', attempts: 3 },
    })
    const stats = await router.stats()
    expect(stats.deployments.map((d) => [d.id, d.failures])).toEqual([
      ['rr#0', { network_error: 1 }],
      ['rr#1', {}],
      // num_retries 1 applies to a group of one: the dead deployment is tried twice before the fallback.
      ['dead#0', { network_error: 2 }],
      ['local-model#0', {}],
    ])
    expect(() => routerFromConfig(config)).toThrow(
      'Deployment local-model#0 is local, but no local model was given',
    )
  })

  it('probes health_check_path of every remote deployment, and a refused one cools down before any request', async () => {
    const probes: string[] = []
    const config = parseRouterConfig({
      model_list: [
        { model_name: 'rr', litellm_params: { api_base: refused, api_key: 'secret-b' } },
        { model_name: 'rr', litellm_params: { api_base: `${backend}/`, api_key: 'secret-a' } },
      ],
      router_settings: { health_check_interval: 3600, health_check_path: '/health', cooldown_time: 60 },
    })
    const router = routerFromConfig(config, {
      fetch: (input, init) => {
        probes.push(String(input))
        return fetch(input, init)
      },
    })
    try {
      await router.checkHealth()
      // Our server's /health is public: the probe needs no key (httpHealthCheck sends none).
      expect(probes.sort()).toEqual([`${backend}/health`, `${refused}/health`].sort())
      const stats = await router.stats()
      expect(stats.deployments.map((d) => [d.id, d.health?.healthy, d.health?.code])).toEqual([
        ['rr#0', false, 'network_error'],
        ['rr#1', true, undefined],
      ])
      expect(stats.deployments[0]!.coolingUntil).toEqual(expect.any(String))
      // The refused deployment is out of rotation: no request is spent on it.
      for (let i = 0; i < 3; i++) {
        await router.rerank({ query: 'red apple', documents: ['red'] })
      }
      const after = await router.stats()
      expect(after.deployments.map((d) => [d.id, d.requests])).toEqual([
        ['rr#0', 0],
        ['rr#1', 3],
      ])
      expect(JSON.stringify(after)).not.toMatch(/secret-/)
    } finally {
      await router.close()
    }
  })
})
