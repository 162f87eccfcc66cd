import { createServer } from 'node:http'
import {
  type RerankCallOptions,
  type RerankRequest,
  type RerankResponse,
  rankScores,
} from '@rerank-kit/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import type { ServedReranker } from './handler-types'
import { limitInFlight } from './in-flight-limit'
import { createNodeListener } from './node-http'
import type { MountedApp } from './test-support/adapter-spec'
import { listening } from './test-support/listening'

// What a router in front needs from the handler: the request's tags (LiteLLM's body keys and header), /ready
// telling a balancer that no backend can serve, and names it serves without listing them (hidden aliases).

/** Records the model and tags of each call; serves "listed" and, unlisted, "hidden". */
class RecordingRouter implements ServedReranker {
  readonly modelNames = ['listed']
  unavailableReason: string | undefined
  readonly calls: { model: string | undefined; tags: readonly string[] | undefined }[] = []

  async rerank(request: RerankRequest, options?: RerankCallOptions): Promise<RerankResponse> {
    this.calls.push({ model: request.model, tags: options?.tags })
    return { model: request.model ?? 'listed', results: rankScores(request, [0.25, 0.75]) }
  }

  servesModel(name: string) {
    return name === 'hidden'
  }
}

const router = new RecordingRouter()
let app: MountedApp
beforeAll(async () => {
  // Behind limitInFlight, as the standalone server runs a router: what the handler reads must pass through it.
  const handler = createRerankHandler({ reranker: limitInFlight(router, { maxInFlight: 8 }) })
  app = await listening(createServer(createNodeListener(handler)))
})
afterAll(async () => {
  await app.close()
})

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

const base = { model: 'listed', query: 'q', documents: ['a', 'b'] }

describe('request tags', () => {
  it('are read from body tags, metadata.tags and x-litellm-tags, together and each once', async () => {
    router.calls.length = 0
    expect((await post('/v1/rerank', { ...base, tags: ['paid'] })).status).toBe(200)
    expect((await post('/rerank', { ...base, metadata: { tags: ['eu', 'paid'] } })).status).toBe(200)
    expect(
      (await post('/api/v1/rerank', { ...base, tags: ['paid'] }, { 'x-litellm-tags': ' eu , paid,, ' }))
        .status,
    ).toBe(200)
    expect((await post('/v2/rerank', base)).status).toBe(200)
    expect(router.calls.map((call) => call.tags)).toEqual([
      ['paid'],
      ['eu', 'paid'],
      ['paid', 'eu'],
      undefined,
    ])
  })

  it('a malformed list is a 400 in the route family’s format, naming the key; nothing is called', async () => {
    router.calls.length = 0
    const cohere = await post('/v1/rerank', { ...base, tags: 'paid' })
    expect(cohere.status).toBe(400)
    expect(await cohere.json()).toEqual({ message: 'tags must be a list of non-empty strings' })
    const native = await post('/rerank', { ...base, metadata: { tags: [1] } })
    expect(native.status).toBe(400)
    expect(JSON.stringify(await native.json())).toContain('metadata.tags must be a list of non-empty strings')
    const tooMany = await post('/rerank', { ...base, tags: Array.from({ length: 65 }, (_, i) => `t${i}`) })
    expect(tooMany.status).toBe(400)
    expect(router.calls).toEqual([])
  })
})

describe('names and readiness a router gives', () => {
  it('a hidden alias is served though /v1/models does not list it; an unknown name is still a 404', async () => {
    router.calls.length = 0
    const hidden = await post('/v1/rerank', { ...base, model: 'hidden' })
    expect(hidden.status).toBe(200)
    expect(router.calls).toEqual([{ model: 'hidden', tags: undefined }])
    const models = (await (await fetch(`${app.url}/v1/models`)).json()) as { data: { id: string }[] }
    expect(models.data.map((model) => model.id)).toEqual(['listed'])
    expect((await post('/v1/rerank', { ...base, model: 'other' })).status).toBe(404)
  })

  it('/ready is 503 with the reason while the router cannot serve, and 200 again after', async () => {
    router.unavailableReason = 'group "rerank": rerank#0 is cooling down'
    const down = await fetch(`${app.url}/ready`)
    expect(down.status).toBe(503)
    expect(down.headers.get('retry-after')).toBe('1')
    expect(await down.json()).toEqual({
      status: 'unavailable',
      reason: 'group "rerank": rerank#0 is cooling down',
    })
    // Liveness is not readiness: /health stays 200.
    expect((await fetch(`${app.url}/health`)).status).toBe(200)
    router.unavailableReason = undefined
    const up = await fetch(`${app.url}/ready`)
    expect(up.status).toBe(200)
    expect(await up.json()).toEqual({ status: 'ready' })
  })
})
