import { describe, expect, it } from 'vitest'
import { RerankError } from '../errors/rerank-error'
import { rerankFormatNames, rerankFormats } from '../formats/index'
import { errorFromHttpResponse, errorMessageOf, errorResponse } from './error-response'
import { parseJsonBody } from './json-body'
import { parseRetryAfter, retryAfterSeconds } from './retry-after'

const headers = (values: Record<string, string>) => (name: string) => values[name]

describe('Retry-After', () => {
  it('is sent as whole seconds, rounded up, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe('1')
    expect(retryAfterSeconds(1)).toBe('1')
    expect(retryAfterSeconds(1000)).toBe('1')
    expect(retryAfterSeconds(1001)).toBe('2')
    expect(retryAfterSeconds(30_000)).toBe('30')
  })

  it('is read as seconds, an HTTP date, or retry-after-ms', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '3' }))).toBe(3000)
    expect(parseRetryAfter(headers({ 'retry-after': '0.5' }))).toBe(500)
    const now = Date.parse('2026-11-23T10:00:00Z')
    expect(parseRetryAfter(headers({ 'retry-after': 'Mon, 23 Nov 2026 10:00:07 GMT' }), now)).toBe(7000)
    expect(parseRetryAfter(headers({ 'retry-after': 'Mon, 23 Nov 2026 09:00:00 GMT' }), now)).toBe(0)
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250)
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }))).toBeUndefined()
    expect(parseRetryAfter(headers({}))).toBeUndefined()
  })
})

describe('errorResponse', () => {
  it('status from the table, Retry-After from the hint, body in the family shape', () => {
    const error = new RerankError('overloaded', 'queue is full', { retryAfterMs: 1200 })
    expect(errorResponse(error, rerankFormats.cohere.formatError)).toEqual({
      status: 503,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '2' },
      body: { message: 'queue is full' },
    })
  })

  it('each family body shape', () => {
    const error = new RerankError('invalid_request', 'Invalid request: top_n: expected an integer >= 1', {
      param: 'top_n',
    })
    const message = error.message
    expect(rerankFormats.native.formatError(error)).toEqual({
      error: { code: 'invalid_request', message, param: 'top_n' },
    })
    expect(rerankFormats.cohere.formatError(error)).toEqual({ message })
    expect(rerankFormats['cohere-v2'].formatError(error)).toEqual({ message })
    expect(rerankFormats.jina.formatError(error)).toEqual({ detail: message })
    expect(rerankFormats.tei.formatError(error)).toEqual({ error: message, error_type: 'validation' })
    expect(rerankFormats.tei.formatError(new RerankError('overloaded', 'busy'))).toEqual({
      error: 'busy',
      error_type: 'overloaded',
    })
    expect(rerankFormats.infinity.formatError(error)).toEqual({
      error: { message, type: 'invalid_request', param: 'top_n', code: 400 },
    })
    expect(rerankFormats.voyage.formatError(error)).toEqual({ detail: message })
    expect(rerankFormats.mixedbread.formatError(error)).toEqual({ detail: message })
  })

  it('an internal error never carries its details, in any family', () => {
    const error = new RerankError(
      'internal',
      'TypeError: cannot read x of undefined at /srv/app/secret.ts:12',
    )
    for (const name of rerankFormatNames) {
      const body = JSON.stringify(rerankFormats[name].formatError(error))
      expect(body, name).toContain('Internal server error')
      expect(body, name).not.toContain('secret')
      expect(body, name).not.toContain('TypeError')
    }
  })
})

describe('errorFromHttpResponse', () => {
  it('reads back what every family formats: code and message survive', () => {
    const cases = [
      new RerankError('invalid_request', 'query must not be empty'),
      new RerankError('unauthorized', 'Missing API key'),
      new RerankError('model_not_found', 'Model "x" is not served here. Served models: a'),
      new RerankError('payload_too_large', 'Too many documents'),
      new RerankError('rate_limited', 'Slow down', { retryAfterMs: 2000 }),
      new RerankError('overloaded', 'Queue full', { retryAfterMs: 1000 }),
      new RerankError('timeout', 'Deadline exceeded'),
    ]
    for (const name of rerankFormatNames) {
      for (const error of cases) {
        const answer = errorResponse(error, rerankFormats[name].formatError)
        const read = errorFromHttpResponse(
          answer.status,
          JSON.parse(JSON.stringify(answer.body)),
          headers(answer.headers),
        )
        // model_not_found shares 404 with not_found: only our native body tells them apart.
        const expected = error.code === 'model_not_found' && name !== 'native' ? 'not_found' : error.code
        expect(read.code, `${name} ${error.code}`).toBe(expected)
        expect(read.message, `${name} ${error.code}`).toBe(error.message)
        expect(read.upstreamStatus).toBe(error.status)
        expect(read.retryAfterMs).toBe(error.retryAfterMs)
      }
    }
  })

  it("treats an upstream's 500 as upstream_error, never as our internal error", () => {
    const read = errorFromHttpResponse(500, { error: { code: 'internal', message: 'Internal server error' } })
    expect(read.code).toBe('upstream_error')
    expect(read.status).toBe(502)
    expect(read.retryable).toBe(true)
    // A native code that disagrees with the status is not trusted.
    expect(errorFromHttpResponse(400, { error: { code: 'overloaded', message: 'x' } }).code).toBe(
      'invalid_request',
    )
  })

  it('finds the message in any body, with a fallback', () => {
    expect(
      errorMessageOf({ detail: [{ loc: ['body', 'query'], msg: 'field required', type: 'missing' }] }),
    ).toBe('field required')
    expect(errorMessageOf('  upstream text  ')).toBe('upstream text')
    expect(errorMessageOf({ unexpected: true })).toBeUndefined()
    expect(errorFromHttpResponse(502, '<html>bad gateway</html>').message).toBe('<html>bad gateway</html>')
    expect(errorFromHttpResponse(418, null).message).toBe('The reranker answered HTTP 418')
    expect(errorFromHttpResponse(418, null).code).toBe('invalid_request')
  })
})

describe('parseJsonBody', () => {
  it('decodes UTF-8 JSON from bytes or a string', () => {
    expect(parseJsonBody(new TextEncoder().encode('{"query":"é"}'))).toEqual({ query: 'é' })
    expect(parseJsonBody('[1,2]')).toEqual([1, 2])
    expect(parseJsonBody('{"a":1}', { maxBytes: 7 })).toEqual({ a: 1 })
  })

  it('refuses empty bodies, broken JSON and oversized strings with 4xx errors', () => {
    expect(() => parseJsonBody('')).toThrowError('Request body is empty: send a JSON object')
    expect(() => parseJsonBody('{"query":')).toThrowError(/^Request body is not valid JSON/)
    try {
      parseJsonBody('{"query":"ééé"}', { maxBytes: 14 })
      expect.unreachable()
    } catch (error) {
      expect((error as RerankError).status).toBe(413)
      expect((error as RerankError).message).toBe('Request body is 18 bytes, over the limit of 14')
    }
  })
})
