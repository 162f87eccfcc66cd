import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { type FakeVendor, startFakeVendor } from '../../client/src/test-support/fake-vendors'
import { parseRouterConfig } from './config'
import type { Router } from './router'
import { routerFromConfig } from './router-from-config'

// A LiteLLM proxy config using tags, aliases, cost-based routing and a retry policy, served over HTTP as the
// standalone server serves a router: the request's tags (body or LiteLLM's header) and model names (a hidden
// alias included) reach the router, which sends each request where LiteLLM would.

let paid: FakeVendor
let free: FakeVendor
let router: Router
let url: string
let close: () => Promise<void>

const yaml = (paidUrl: string, freeUrl: string) => `
model_list:
  - model_name: rerank
    litellm_params:
      model: cohere/rerank-v3.5
      api_base: ${paidUrl}
      api_key: sk-paid
      tags: ["paid"]
    model_info:
      input_cost_per_query: 0.002
  - model_name: rerank
    litellm_params:
      model: jina_ai/jina-reranker-v2-base-multilingual
      api_base: ${freeUrl}
      api_key: sk-free
      tags: ["free", "default"]
      input_cost_per_query: 0.001
router_settings:
  routing_strategy: cost-based-routing
  enable_tag_filtering: true
  model_group_alias: {"rerank-english-v3.0": {"model": "rerank", "hidden": true}, "legacy-rerank": "rerank"}
  retry_policy: {"BadRequestErrorRetries": 0, "InternalServerErrorRetries": 1}
litellm_settings:
  num_retries: 3
  request_timeout: 10
`

beforeAll(async () => {
  paid = await startFakeVendor('cohere', { apiKey: 'sk-paid' })
  free = await startFakeVendor('jina', { apiKey: 'sk-free' })
  const config = parseRouterConfig(parse(yaml(paid.url, free.url)), {})
  expect(config.unsupportedKeys).toEqual([])
  router = routerFromConfig(config)
  const handler = createRerankHandler({
    reranker: {
      rerank: (request, options) => router.rerank(request, options),
      get modelNames() {
        return router.modelNames
      },
      servesModel: (name) => router.acceptsModel(name),
    },
  })
  const server = createServer(createNodeListener(handler))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

afterAll(async () => {
  await close?.()
  await router?.close()
  await Promise.all([paid?.close(), free?.close()])
})

const post = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const response = await fetch(`${url}/v1/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: 'red apple', documents: ['green pear', 'red apple pie'], ...body }),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** Which backend served each of the calls `run` makes. */
async function servedBy(run: () => Promise<unknown>): Promise<string[]> {
  const before = { paid: paid.requests.length, free: free.requests.length }
  await run()
  return [
    ...Array(paid.requests.length - before.paid).fill('paid'),
    ...Array(free.requests.length - before.free).fill('free'),
  ]
}

describe('a LiteLLM config with tags, aliases and cost-based routing, over HTTP', () => {
  it('untagged requests go to the default-tagged deployment; tags from the body or header pick theirs', async () => {
    expect(await servedBy(() => post({ model: 'rerank' }))).toEqual(['free'])
    expect(await servedBy(() => post({ model: 'rerank', tags: ['paid'] }))).toEqual(['paid'])
    expect(await servedBy(() => post({ model: 'rerank', metadata: { tags: ['paid'] } }))).toEqual(['paid'])
    expect(await servedBy(() => post({ model: 'rerank' }, { 'x-litellm-tags': 'paid' }))).toEqual(['paid'])
    // A tag no deployment carries: LiteLLM's default deployments serve it.
    expect(await servedBy(() => post({ model: 'rerank', tags: ['gold'] }))).toEqual(['free'])
    // Both tags match: the cheaper of the two (cost-based-routing), every time.
    for (let i = 0; i < 5; i++) {
      expect(await servedBy(() => post({ model: 'rerank', tags: ['paid', 'free'] }))).toEqual(['free'])
    }
  })

  it('aliases route to the group and answer under the name asked; a hidden one is not listed', async () => {
    const hidden = await post({ model: 'rerank-english-v3.0' })
    expect(hidden.status).toBe(200)
    expect(hidden.body.model).toBe('rerank-english-v3.0')
    expect(hidden.body.results).toEqual([
      { index: 1, relevance_score: 1 },
      { index: 0, relevance_score: 0 },
    ])
    expect((await post({ model: 'legacy-rerank' })).status).toBe(200)
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] }
    expect(models.data.map((model) => model.id).sort()).toEqual(['legacy-rerank', 'rerank'])
    expect((await post({ model: 'rerank-v9' })).status).toBe(404)
  })

  it('retry_policy decides: a 500 is retried once on the same deployment, a 400 never', async () => {
    free.faults.push({ status: 500, message: 'boom' })
    const retried = await servedBy(async () => expect((await post({ model: 'rerank' })).status).toBe(200))
    expect(retried).toEqual(['free', 'free'])
    free.faults.push({ status: 400, message: 'bad' }, { status: 400, message: 'bad' })
    const refused = await servedBy(async () => expect((await post({ model: 'rerank' })).status).toBe(400))
    expect(refused).toEqual(['free'])
    free.faults.length = 0
  })
})
