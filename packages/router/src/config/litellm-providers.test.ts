import { afterAll, describe, expect, it } from 'vitest'
import {
  type FakeVendor,
  type FakeVendorKind,
  startFakeVendor,
} from '../../../client/src/test-support/fake-vendors'
import { routerFromConfig } from '../router-from-config'
import { parseRouterConfig } from './load-router-config'
import { RouterConfigError } from './router-config-error'

const deploymentOf = (litellmParams: Record<string, unknown>, env: Record<string, string> = {}) =>
  parseRouterConfig({ model_list: [{ model_name: 'rerank', litellm_params: litellmParams }] }, env)
    .deployments[0]!

describe('LiteLLM provider prefixes', () => {
  it('maps each provider to its format, its vendor URL when api_base is unset, and its key variable', () => {
    const env = {
      COHERE_API_KEY: 'co-1',
      TOGETHERAI_API_KEY: 'tg-1',
      JINA_AI_API_KEY: 'jn-1',
      VOYAGE_API_KEY: 'vo-1',
    }
    const target = (model: string) => {
      const { format, apiBase, path, apiKey, model: upstream } = deploymentOf({ model }, env)
      return { format, apiBase, path, apiKey, upstream }
    }
    expect(target('cohere/rerank-v3.5')).toEqual({
      format: 'cohere',
      apiBase: 'https://api.cohere.com',
      path: undefined,
      apiKey: 'co-1',
      upstream: 'rerank-v3.5',
    })
    expect(target('together_ai/Salesforce/Llama-Rank-V1')).toEqual({
      format: 'cohere',
      apiBase: 'https://api.together.xyz',
      path: undefined,
      apiKey: 'tg-1',
      upstream: 'Salesforce/Llama-Rank-V1',
    })
    expect(target('jina_ai/jina-reranker-v2-base-multilingual')).toMatchObject({
      format: 'jina',
      apiBase: 'https://api.jina.ai',
      apiKey: 'jn-1',
    })
    expect(target('voyage/rerank-2')).toMatchObject({
      format: 'voyage',
      apiBase: 'https://api.voyageai.com',
      apiKey: 'vo-1',
    })
  })

  it('an api_base written as the full URL is not given the route twice (LiteLLM cuts it the same way)', () => {
    const at = (model: string, api_base: string) => {
      const { format, apiBase, path } = deploymentOf({ model, api_base })
      return [format, apiBase, path]
    }
    expect(at('hosted_vllm/BAAI/bge-reranker-v2-m3', 'http://vllm:8000')).toEqual([
      'jina',
      'http://vllm:8000',
      '/rerank',
    ])
    // LiteLLM turns hosted_vllm's /v1/rerank into /rerank.
    expect(at('hosted_vllm/m', 'http://vllm:8000/v1/rerank/')).toEqual([
      'jina',
      'http://vllm:8000',
      '/rerank',
    ])
    expect(at('azure_ai/cohere-rerank-v3.5', 'https://my.eastus2.models.ai.azure.com/v1/rerank')).toEqual([
      'cohere',
      'https://my.eastus2.models.ai.azure.com',
      undefined,
    ])
    expect(at('cohere/rerank-v3.5', 'https://proxy.internal/cohere/v2/rerank')).toEqual([
      'cohere',
      'https://proxy.internal/cohere',
      '/v2/rerank',
    ])
    expect(at('voyage/rerank-2', 'https://api.voyageai.com/v1')).toEqual([
      'voyage',
      'https://api.voyageai.com',
      undefined,
    ])
    expect(at('infinity/m', 'http://infinity:7997/rerank')).toEqual([
      'infinity',
      'http://infinity:7997',
      undefined,
    ])
    expect(at('huggingface/BAAI/bge-reranker-large', 'http://tei:8080')).toEqual([
      'tei',
      'http://tei:8080',
      undefined,
    ])
  })

  it('reads the api_base variable of providers without a vendor URL, and names it when unset', () => {
    expect(
      deploymentOf({ model: 'azure_ai/cohere-rerank-v3.5' }, { AZURE_AI_API_BASE: 'https://az.example/' }),
    ).toMatchObject({ apiBase: 'https://az.example', format: 'cohere' })
    const missing = (() => {
      try {
        deploymentOf({ model: 'hosted_vllm/m' })
      } catch (error) {
        return error
      }
    })()
    expect(missing).toBeInstanceOf(RouterConfigError)
    expect((missing as RouterConfigError).issues).toEqual([
      {
        path: 'model_list[0].litellm_params.api_base',
        message:
          'is required for a remote deployment (or set HOSTED_VLLM_API_BASE) (model "local" means the in-process model)',
      },
    ])
  })

  it("the config's api_key wins over the variable; an explicit format takes api_base as it is", () => {
    const env = { COHERE_API_KEY: 'from-env' }
    expect(deploymentOf({ model: 'cohere/m', api_key: 'from-config' }, env).apiKey).toBe('from-config')
    expect(
      deploymentOf({ model: 'cohere/m', format: 'cohere-v2', api_base: 'http://gw:9000/v2/rerank' }, env),
    ).toMatchObject({ format: 'cohere-v2', apiBase: 'http://gw:9000/v2/rerank', apiKey: 'from-env' })
  })

  it('model local/<name> is the in-process model <name>', () => {
    expect(deploymentOf({ model: 'local/BAAI/bge-reranker-base' })).toMatchObject({
      local: true,
      model: 'BAAI/bge-reranker-base',
    })
    expect(() => deploymentOf({ model: 'local/' })).toThrow(RouterConfigError)
  })
})

describe('LiteLLM provider prefixes, over HTTP', () => {
  const vendors: FakeVendor[] = []
  afterAll(async () => {
    await Promise.all(vendors.map((vendor) => vendor.close()))
  })

  // Each prefix against a fake of the API it should speak: the route called, the Bearer key and the model
  // sent are LiteLLM's, and the answer parses in that format.
  const cases: [string, FakeVendorKind, string, string][] = [
    ['cohere/rerank-v3.5', 'cohere', '', '/v1/rerank'],
    ['together_ai/Salesforce/Llama-Rank-V1', 'cohere', '', '/v1/rerank'],
    ['azure_ai/cohere-rerank-v3.5', 'cohere', '/v1/rerank', '/v1/rerank'],
    ['jina_ai/jina-reranker-v2-base-multilingual', 'jina', '', '/v1/rerank'],
    ['voyage/rerank-2', 'voyage', '/v1', '/v1/rerank'],
    ['hosted_vllm/BAAI/bge-reranker-v2-m3', 'vllm', '/v1/rerank', '/rerank'],
    ['infinity/BAAI/bge-reranker-base', 'infinity', '', '/rerank'],
    ['huggingface/BAAI/bge-reranker-large', 'tei', '', '/rerank'],
  ]
  it.each(cases)('%s calls %s at its route with its key', async (model, kind, suffix, route) => {
    const vendor = await startFakeVendor(kind, { apiKey: 'sk-provider' })
    vendors.push(vendor)
    const config = parseRouterConfig(
      {
        model_list: [
          {
            model_name: 'rerank',
            litellm_params: { model, api_base: `${vendor.url}${suffix}`, api_key: 'sk-provider' },
          },
        ],
      },
      {},
    )
    const router = routerFromConfig(config)
    try {
      const answer = await router.rerank({
        model: 'rerank',
        query: 'red apple',
        documents: ['green pear', 'red apple pie'],
      })
      expect(answer.results.map((result) => result.index)).toEqual([1, 0])
      // The fake's score: the share of the query's words in the document.
      expect(answer.results.map((result) => result.score)).toEqual([1, 0])
      const request = vendor.requests.at(-1)!
      expect(request.path).toBe(route)
      expect(request.headers.authorization).toBe('Bearer sk-provider')
      const sent = request.body as Record<string, unknown>
      if (kind !== 'tei') expect(sent.model).toBe(model.slice(model.indexOf('/') + 1))
    } finally {
      await router.close()
    }
  })
})
