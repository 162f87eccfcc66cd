import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import {
  codeFromStatus,
  failedBeforeSending,
  fromUnknown,
  isRetryable,
  RerankError,
  rerankErrorCodes,
  rerankErrorTable,
  statusOfCode,
} from './rerank-error'

describe('RerankError', () => {
  it('takes its status from the one code table', () => {
    const expected = {
      invalid_request: 400,
      unauthorized: 401,
      forbidden: 403,
      not_found: 404,
      method_not_allowed: 405,
      model_not_found: 404,
      request_timeout: 408,
      payload_too_large: 413,
      rate_limited: 429,
      overloaded: 503,
      timeout: 504,
      aborted: 499,
      network_error: 502,
      upstream_error: 502,
      internal: 500,
    }
    expect(Object.keys(rerankErrorTable).sort()).toEqual([...rerankErrorCodes].sort())
    for (const code of rerankErrorCodes) {
      expect(new RerankError(code, 'x').status).toBe(expected[code])
      expect(statusOfCode(code)).toBe(expected[code])
    }
  })

  it('is retryable only where a retry can help, unless overridden', () => {
    const retryable = rerankErrorCodes.filter((code) => new RerankError(code, 'x').retryable)
    expect(retryable.sort()).toEqual([
      'network_error',
      'overloaded',
      'rate_limited',
      'request_timeout',
      'timeout',
      'upstream_error',
    ])
    expect(new RerankError('upstream_error', 'x', { retryable: false }).retryable).toBe(false)
  })

  it('carries retryAfterMs (whole ms), param, upstream status and cause', () => {
    const cause = new Error('root')
    const error = new RerankError('rate_limited', 'slow down', {
      retryAfterMs: 1500.2,
      param: 'documents.2',
      upstreamStatus: 429,
      cause,
    })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('RerankError')
    expect(error.retryAfterMs).toBe(1501)
    expect(error.param).toBe('documents.2')
    expect(error.upstreamStatus).toBe(429)
    expect(error.cause).toBe(cause)
    expect(Object.keys(new RerankError('internal', 'x'))).not.toContain('param')
  })

  it('never exposes internal or upstream details in its public message', () => {
    expect(new RerankError('internal', 'db password is hunter2').publicMessage).toBe('Internal server error')
    expect(new RerankError('upstream_error', 'http://10.0.0.3:9000 said 500').publicMessage).toBe(
      'An upstream reranker failed',
    )
    expect(new RerankError('invalid_request', 'query must not be empty').publicMessage).toBe(
      'query must not be empty',
    )
  })

  it('tells a client a public message built to be safe instead of the generic one, never the message', () => {
    const error = new RerankError('upstream_error', 'rerank#1 answered 401: key sk-secret rejected', {
      publicMessage: 'An upstream reranker failed (deployment rerank#1)',
    })
    expect(error.publicMessage).toBe('An upstream reranker failed (deployment rerank#1)')
    expect(error.message).toContain('sk-secret')
    expect(Object.keys(error)).not.toContain('publicMessage')
  })

  it('recognises errors from another copy of the module, where instanceof fails', async () => {
    vi.resetModules()
    // @ts-expect-error: the query suffix makes Vite load a second, independent instance of the module
    const copy: typeof import('./rerank-error') = await import('./rerank-error?copy')
    const foreign = new copy.RerankError('overloaded', 'busy')
    expect(foreign instanceof RerankError).toBe(false)
    expect(RerankError.isInstance(foreign)).toBe(true)
    expect(fromUnknown(foreign)).toBe(foreign)
    expect(RerankError.isInstance(new Error('x'))).toBe(false)
    expect(RerankError.isInstance({ code: 'internal' })).toBe(false)
    expect(RerankError.isInstance(null)).toBe(false)
  })
})

describe('fromUnknown', () => {
  it('returns RerankErrors unchanged', () => {
    const error = new RerankError('timeout', 'late')
    expect(fromUnknown(error)).toBe(error)
    expect(RerankError.fromUnknown(error)).toBe(error)
  })

  it('maps AbortSignal.timeout to timeout and a plain abort to aborted', async () => {
    const timedOut = AbortSignal.timeout(1)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(fromUnknown(timedOut.reason).code).toBe('timeout')
    const controller = new AbortController()
    controller.abort()
    const aborted = fromUnknown(controller.signal.reason)
    expect(aborted.code).toBe('aborted')
    expect(aborted.status).toBe(499)
  })

  it('maps a real refused connection to a retryable network_error, known to be unsent', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise((resolve) => server.close(resolve))
    const failure = await fetch(`http://127.0.0.1:${port}/`).catch((error: unknown) => error)
    const error = fromUnknown(failure)
    expect(error.code).toBe('network_error')
    expect(error.status).toBe(502)
    expect(error.message).toBe('Connection failed (ECONNREFUSED)')
    expect(failedBeforeSending(failure)).toBe(true)
    expect(failedBeforeSending(error)).toBe(true)
    expect(error.retryable).toBe(true)
    expect(error.cause).toBe(failure)
  })

  it('tells failures before sending from failures after it', () => {
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
    })
    expect(failedBeforeSending(reset)).toBe(false)
    expect(fromUnknown(reset).code).toBe('network_error')
    const dns = new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) })
    expect(failedBeforeSending(dns)).toBe(true)
    expect(failedBeforeSending(new Error('no code'))).toBe(false)
    expect(failedBeforeSending(undefined)).toBe(false)
  })

  it('maps a ZodError to invalid_request', () => {
    const result = z.string().safeParse(1)
    expect(result.success).toBe(false)
    expect(fromUnknown(result.error).code).toBe('invalid_request')
  })

  it('maps framework errors by their status, keeping only exposable client messages', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, expose: true })
    expect(fromUnknown(tooLarge).code).toBe('payload_too_large')
    expect(fromUnknown(tooLarge).message).toBe('request entity too large')
    const hidden = Object.assign(new Error('secret parser state'), { statusCode: 400, expose: false })
    expect(fromUnknown(hidden).code).toBe('invalid_request')
    expect(fromUnknown(hidden).message).toBe('Request failed')
    const serverSide = Object.assign(new Error('stack details'), { status: 503 })
    expect(fromUnknown(serverSide).code).toBe('overloaded')
    expect(fromUnknown(serverSide).message).toBe('Request failed')
  })

  it('turns anything else into a generic internal error that keeps the cause', () => {
    for (const thrown of [new TypeError('x is undefined'), 'a string', 42, undefined, { weird: true }]) {
      const error = fromUnknown(thrown)
      expect(error.code).toBe('internal')
      expect(error.status).toBe(500)
      expect(error.publicMessage).toBe('Internal server error')
      expect(error.cause).toBe(thrown)
    }
  })

  it('isRetryable works on anything', () => {
    expect(isRetryable(new RerankError('rate_limited', 'x'))).toBe(true)
    expect(isRetryable(new RerankError('invalid_request', 'x'))).toBe(false)
    expect(isRetryable(new Error('boom'))).toBe(false)
    expect(isRetryable(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true)
  })
})

describe('codeFromStatus', () => {
  it('maps upstream statuses to codes', () => {
    const cases: [number, string][] = [
      [400, 'invalid_request'],
      [422, 'invalid_request'],
      [401, 'unauthorized'],
      [403, 'forbidden'],
      [404, 'not_found'],
      [405, 'method_not_allowed'],
      [408, 'request_timeout'],
      [413, 'payload_too_large'],
      [429, 'rate_limited'],
      [500, 'upstream_error'],
      [502, 'upstream_error'],
      [503, 'overloaded'],
      [504, 'timeout'],
    ]
    for (const [status, code] of cases) expect(codeFromStatus(status), String(status)).toBe(code)
  })
})
