import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { nodeHttpFetch } from '@rerank-kit/client/node'
import { RerankError, type Reranker, rankScores } from '@rerank-kit/protocol'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeVendor, fakeScore, startFakeVendor } from '../../client/src/test-support/fake-vendors'
import { localhostCert, testCa } from '../../client/src/test-support/tls-fixture'
import { parseRouterConfig } from './config'
import { routerFromConfig } from './router-from-config'

// routerFromConfig over https: backends with certificates from the committed test CA
// (client/src/test-support/tls), trusted through the `fetch` option: nodeHttpFetch({ ca }).

const firstWord: Reranker = {
  async rerank(request) {
    const word = request.query.split(' ')[0]!
    const scores = request.documents.map((document) =>
      (typeof document === 'string' ? document : (document.text ?? '')).includes(word) ? 1 : 0,
    )
    return { model: 'first-word', results: rankScores(request, scores) }
  },
}

let cohere: FakeVendor
let native: string
const closers: (() => Promise<void>)[] = []
beforeAll(async () => {
  cohere = await startFakeVendor('cohere', { apiKey: 'secret-c', tls: localhostCert })
  closers.push(cohere.close)
  const server = createServer(
    localhostCert,
    createNodeListener(createRerankHandler({ reranker: firstWord, apiKeys: ['secret-n'] })),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  native = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  closers.push(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
})
afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
})

const config = (
  routerSettings: Record<string, unknown> = {},
  litellmSettings: Record<string, unknown> = {},
  env: Record<string, string> = {},
) =>
  parseRouterConfig(
    {
      model_list: [
        {
          model_name: 'cohere-group',
          litellm_params: { model: 'cohere/rerank-v3.5', api_base: cohere.url, api_key: 'secret-c' },
        },
        { model_name: 'native-group', litellm_params: { api_base: native, api_key: 'secret-n' } },
      ],
      router_settings: { num_retries: 0, ...routerSettings },
      litellm_settings: litellmSettings,
    },
    env,
  )

const query = 'deep learning'
const documents = ['cooking', 'deep learning with neural networks', 'deep sea']

describe('routerFromConfig over https', () => {
  it('with fetch: nodeHttpFetch({ ca }), answers come through from a Cohere and a native https backend', async () => {
    const router = routerFromConfig(config(), { fetch: nodeHttpFetch({ ca: testCa }) })
    try {
      const fromCohere = await router.rerank({ model: 'cohere-group', query, documents })
      expect(fromCohere.model).toBe('cohere-group')
      expect(fromCohere.results).toEqual(
        [1, 2, 0].map((index) => ({ index, score: fakeScore(query, documents[index]!) })),
      )
      expect(fromCohere.results[0]!.score).toBe(1)
      expect(cohere.requests.at(-1)).toMatchObject({
        path: '/v1/rerank',
        headers: { authorization: 'Bearer secret-c' },
        body: { model: 'rerank-v3.5', query, documents },
      })
      const fromNative = await router.rerank({ model: 'native-group', query: 'neural nets', documents })
      expect(fromNative).toEqual({
        model: 'native-group',
        results: [
          { index: 1, score: 1 },
          { index: 0, score: 0 },
          { index: 2, score: 0 },
        ],
        routing: { deployment: 'native-group#0', attempts: 1 },
      })
      const stats = await router.stats()
      expect(stats.deployments.map((d) => [d.id, d.successes, d.failures])).toEqual([
        ['cohere-group#0', 1, {}],
        ['native-group#0', 1, {}],
      ])
    } finally {
      await router.close()
    }
  })

  it('without the CA (the default nodeHttpFetch) the same backends are refused: network_error', async () => {
    const requestsBefore = cohere.requests.length
    const router = routerFromConfig(config())
    try {
      const error = await router.rerank({ model: 'cohere-group', query, documents }).then(
        () => expect.fail('the call succeeded'),
        (thrown: unknown) => thrown as RerankError,
      )
      expect(RerankError.isInstance(error)).toBe(true)
      expect(error.code).toBe('network_error')
      expect(cohere.requests.length).toBe(requestsBefore)
      const stats = await router.stats()
      expect(stats.deployments[0]!.failures).toEqual({ network_error: 1 })
    } finally {
      await router.close()
    }
  })

  it('health_check_path probes go through the same fetch: healthy with the CA, network_error without', async () => {
    const settings = { health_check_path: '/health', health_check_interval: 3600 }
    const healthOf = async (fetch?: typeof globalThis.fetch) => {
      const router = routerFromConfig(config(settings), fetch ? { fetch } : {})
      try {
        await router.checkHealth()
        const stats = await router.stats()
        return stats.deployments.find((d) => d.id === 'native-group#0')!.health
      } finally {
        await router.close()
      }
    }
    expect(await healthOf(nodeHttpFetch({ ca: testCa }))).toMatchObject({ healthy: true })
    expect(await healthOf()).toMatchObject({ healthy: false, code: 'network_error' })
  })
})

describe("the config's trust: LiteLLM's ssl_verify, SSL_VERIFY and SSL_CERT_FILE", () => {
  const caFile = fileURLToPath(new URL('../../client/src/test-support/tls/ca.pem', import.meta.url))
  const answered = async (router: ReturnType<typeof routerFromConfig>) => {
    try {
      const answer = await router.rerank({ model: 'cohere-group', query, documents })
      return answer.results[0]!.index
    } finally {
      await router.close()
    }
  }

  it('a CA bundle from ssl_verify, SSL_VERIFY or SSL_CERT_FILE is trusted', async () => {
    expect(await answered(routerFromConfig(config({}, { ssl_verify: caFile })))).toBe(1)
    expect(await answered(routerFromConfig(config({}, {}, { SSL_VERIFY: caFile })))).toBe(1)
    expect(await answered(routerFromConfig(config({}, {}, { SSL_CERT_FILE: caFile })))).toBe(1)
  })

  it('ssl_verify: false accepts the untrusted certificate (unsafe, by choice); true keeps verifying', async () => {
    expect(await answered(routerFromConfig(config({}, { ssl_verify: false })))).toBe(1)
    expect(config({}, { ssl_verify: true }, { SSL_VERIFY: 'false' }).settings.tls).toBeUndefined()
    expect(config({}, {}, { SSL_VERIFY: 'False' }).settings.tls).toEqual({ verify: false })
  })

  it('a CA file that is missing or holds no certificate stops the start, naming the key', () => {
    for (const file of ['/nonexistent/ca.pem', fileURLToPath(import.meta.url)]) {
      expect(() => routerFromConfig(config({}, { ssl_verify: file }))).toThrow(
        expect.objectContaining({ code: 'invalid_request', param: 'litellm_settings.ssl_verify' }),
      )
    }
  })
})
