import { createServer } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createRerankHandler } from './create-rerank-handler'
import type { RerankHandlerOptions } from './handler-types'
import { parseModelAliases } from './model-names'
import { createNodeListener } from './node-http'
import { parseRouteFamilyPrefixes, routeTableOf } from './route-families'
import type { MountedApp } from './test-support/adapter-spec'
import { listening } from './test-support/listening'
import { OverlapReranker } from './test-support/overlap-reranker'

// Every API family over real HTTP: Voyage, mixedbread and TEI beside native, Cohere and Jina, each at its own
// prefix, answering and erring in its vendor's format; model aliases; a bare key in Authorization.

const query = 'capital of France'
const documents = ['Berlin is the capital of Germany.', 'Paris is the capital of France.', 'Bananas.']

let app: MountedApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function serve(options: Partial<RerankHandlerOptions> = {}) {
  const reranker = new OverlapReranker()
  app = await listening(createServer(createNodeListener(createRerankHandler({ reranker, ...options }))))
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${app!.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
    // biome-ignore lint/suspicious/noExplicitAny: each family answers its own shape, read field by field
    return { status: response.status, body: (await response.json()) as any }
  }
  return { reranker, post, url: app.url }
}

describe('route families', () => {
  it('Voyage at /voyage/v1/rerank: top_k, plain-string documents, object "list", its error format', async () => {
    const { post } = await serve()
    expect(
      await post('/voyage/v1/rerank', {
        query,
        documents,
        model: 'overlap',
        top_k: 2,
        return_documents: true,
      }),
    ).toEqual({
      status: 200,
      body: {
        object: 'list',
        data: [
          { index: 1, relevance_score: 1, document: documents[1] },
          { index: 0, relevance_score: 2 / 3, document: documents[0] },
        ],
        model: 'overlap',
        usage: { total_tokens: 42 },
      },
    })
    expect(await post('/voyage/v1/rerank', { query: '', documents })).toEqual({
      status: 400,
      body: { detail: 'Invalid request: query must not be empty' },
    })
  })

  it('mixedbread at /v1/reranking: input, top_k, return_input, and the echo of both', async () => {
    const { post } = await serve()
    const answer = await post('/v1/reranking', { query, input: documents, top_k: 1, return_input: true })
    expect(answer).toEqual({
      status: 200,
      body: {
        object: 'list',
        model: 'overlap',
        data: [{ index: 1, score: 1, input: documents[1] }],
        usage: { prompt_tokens: 42, total_tokens: 42 },
        top_k: 1,
        return_input: true,
      },
    })
    expect((await post('/v1/reranking', { query, input: [] })).status).toBe(400)
  })

  it('TEI at /tei/rerank: texts in, a bare array out, raw_scores and return_text, its error format', async () => {
    const { post, reranker, url } = await serve()
    expect(
      await post('/tei/rerank', { query, texts: documents, return_text: true, raw_scores: true }),
    ).toEqual({
      status: 200,
      body: [
        { index: 1, score: 1, text: documents[1] },
        { index: 0, score: 2 / 3, text: documents[0] },
        { index: 2, score: 0, text: documents[2] },
      ],
    })
    expect(reranker.calls.at(-1)!.request.rawScores).toBe(true)
    expect(await post('/tei/rerank', { query, texts: documents, truncate: true })).toEqual({
      status: 200,
      body: [
        { index: 1, score: 1 },
        { index: 0, score: 2 / 3 },
        { index: 2, score: 0 },
      ],
    })
    expect(await post('/tei/rerank', { query })).toEqual({
      status: 400,
      body: { error: 'Invalid request: texts is required', error_type: 'validation' },
    })
    const info = await fetch(`${url}/tei/info`)
    expect(info.status).toBe(200)
    expect(await info.json()).toEqual({
      model_id: 'overlap',
      model_sha: null,
      model_type: { reranker: { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } } },
      max_client_batch_size: null,
      router: 'rerank-kit',
    })
  })

  it("a family's GET route errs in its family's format (TEI's /info without the key)", async () => {
    const { url } = await serve({ apiKeys: ['k'] })
    const refused = await fetch(`${url}/tei/info`)
    expect(refused.status).toBe(401)
    expect(await refused.json()).toEqual({ error: 'A valid API key is required', error_type: 'validation' })
    expect((await fetch(`${url}/tei/info`, { headers: { authorization: 'Bearer k' } })).status).toBe(200)
  })

  it('moves a family to another prefix, or leaves it out; the OpenAPI document follows', async () => {
    const { post, url } = await serve({ routeFamilies: { tei: '/', native: '/native', voyage: false } })
    expect((await post('/rerank', { query, texts: documents })).body).toHaveLength(3)
    expect((await fetch(`${url}/info`)).status).toBe(200)
    expect((await post('/native/rerank', { query, documents, top_n: 1 })).body.results).toHaveLength(1)
    expect((await post('/voyage/v1/rerank', { query, documents })).status).toBe(404)
    const paths = Object.keys(
      ((await (await fetch(`${url}/openapi.json`)).json()) as { paths: object }).paths,
    )
    expect(paths).toEqual(expect.arrayContaining(['/rerank', '/info', '/native/rerank', '/v1/reranking']))
    expect(paths).not.toContain('/voyage/v1/rerank')
    expect(paths).not.toContain('/tei/rerank')
  })

  it('refuses two families on one path, an unknown family, and a family over a built-in route, at start', () => {
    const reranker = new OverlapReranker()
    expect(() => createRerankHandler({ reranker, routeFamilies: { tei: '' } })).toThrow(
      "route /rerank of the tei family is already the native family's: give one of them another prefix",
    )
    expect(() => createRerankHandler({ reranker, routeFamilies: { teii: '' } as never })).toThrow(
      'unknown route family "teii"',
    )
    expect(() => routeTableOf({ tei: '/v1/models/..' }, ['/v1/models/../info'])).toThrow(/built-in GET route/)
  })

  it('reads RERANKER_ROUTE_PREFIXES pairs', () => {
    expect(parseRouteFamilyPrefixes('tei=/, native=/native ,voyage=off,jina=none')).toEqual({
      tei: '',
      native: '/native',
      voyage: false,
      jina: false,
    })
    expect(() => parseRouteFamilyPrefixes('tei')).toThrow('"tei" is not family=prefix')
    expect(() => parseRouteFamilyPrefixes('cohere3=/x')).toThrow('unknown route family "cohere3"')
  })
})

describe('model names clients send', () => {
  it('answers an alias as its served model, and says so in the answer', async () => {
    const { post, reranker } = await serve({
      modelAliases: { 'rerank-v3.5': 'overlap', 'rerank-2': 'overlap' },
    })
    const answer = await post('/v1/rerank', { model: 'rerank-v3.5', query, documents, top_n: 1 })
    expect(answer.status).toBe(200)
    expect(answer.body.model).toBe('overlap')
    expect(reranker.calls.at(-1)!.request.model).toBe('overlap')
    expect((await post('/voyage/v1/rerank', { model: 'rerank-2', query, documents })).body.model).toBe(
      'overlap',
    )
    // Without an alias the 404 stays, naming the served models.
    expect(await post('/v1/rerank', { model: 'rerank-english-v3.0', query, documents })).toEqual({
      status: 404,
      body: {
        message: 'Model "rerank-english-v3.0" is not served here. Served models: overlap, overlap-alias',
      },
    })
  })

  it('with acceptAnyModel, any name is answered by the first served model, named in the answer', async () => {
    const { post } = await serve({ acceptAnyModel: true })
    const answer = await post('/v1/reranking', {
      model: 'mixedbread-ai/mxbai-rerank-large-v1',
      query,
      input: documents,
    })
    expect(answer.status).toBe(200)
    expect(answer.body.model).toBe('overlap')
    // A served name still picks that model.
    expect((await post('/v1/rerank', { model: 'overlap-alias', query, documents })).body.model).toBe(
      'overlap-alias',
    )
  })

  it('refuses at start an alias that points at no served model', () => {
    expect(() =>
      createRerankHandler({ reranker: new OverlapReranker(), modelAliases: { 'rerank-2': 'overlapp' } }),
    ).toThrow('model aliases name models not served here: rerank-2=overlapp (served: overlap, overlap-alias)')
  })

  it('reads RERANKER_MODEL_ALIASES pairs', () => {
    expect(parseModelAliases('rerank-v3.5=overlap, rerank-2 = overlap,')).toEqual({
      'rerank-v3.5': 'overlap',
      'rerank-2': 'overlap',
    })
    expect(() => parseModelAliases('rerank-2')).toThrow('"rerank-2" is not name=served-name')
    expect(() => parseModelAliases('=overlap')).toThrow('"=overlap" is not name=served-name')
  })
})

describe('API keys as every client sends them', () => {
  it('accepts a bare key in Authorization like Bearer <key>, and refuses a wrong bare key', async () => {
    const { post } = await serve({ apiKeys: ['mxbai-key'] })
    const body = { query, input: documents }
    expect((await post('/v1/reranking', body, { authorization: 'mxbai-key' })).status).toBe(200)
    expect((await post('/v1/reranking', body, { authorization: 'Bearer mxbai-key' })).status).toBe(200)
    expect(await post('/v1/reranking', body, { authorization: 'other-key' })).toEqual({
      status: 401,
      body: { detail: 'A valid API key is required' },
    })
  })
})
