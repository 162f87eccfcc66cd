import { RerankError, type RerankErrorCode } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { type FailureClass, failureClassOf, policyValue } from './failure-classes'
import { asDeploymentFault, asUpstreamTimeout } from './failure-kinds'

const upstream = (code: RerankErrorCode, status: number) =>
  new RerankError(code, `HTTP ${status}`, { upstreamStatus: status })

describe('failureClassOf', () => {
  const table: [string, unknown, FailureClass | undefined][] = [
    ['upstream 400', upstream('invalid_request', 400), 'badRequest'],
    ['upstream 422', upstream('invalid_request', 422), 'badRequest'],
    ['upstream 413', upstream('payload_too_large', 413), 'badRequest'],
    ['our own validation', new RerankError('invalid_request', 'query must not be empty'), 'badRequest'],
    ['upstream 401', upstream('unauthorized', 401), 'authentication'],
    ['upstream 403', upstream('forbidden', 403), 'authentication'],
    ['a 401 the router made a 502', asDeploymentFault(upstream('unauthorized', 401), 'd'), 'authentication'],
    ['a 407 from a proxy', asDeploymentFault(upstream('unauthorized', 407), 'd'), 'authentication'],
    ['our deadline', new RerankError('timeout', 'No answer within 100 ms'), 'timeout'],
    ['upstream 504', upstream('timeout', 504), 'timeout'],
    ['upstream 408, as the router reads it', asUpstreamTimeout(upstream('request_timeout', 408)), 'timeout'],
    ['upstream 429', upstream('rate_limited', 429), 'rateLimit'],
    ['upstream 500', upstream('upstream_error', 500), 'internalServer'],
    ['upstream 502', upstream('upstream_error', 502), 'internalServer'],
    ['upstream 503', upstream('overloaded', 503), 'internalServer'],
    ['a 200 that is not JSON', upstream('upstream_error', 200), 'internalServer'],
    ['a wrong answer', new RerankError('upstream_error', 'Deployment d answered wrongly'), 'internalServer'],
    ['a local model that crashed', new TypeError('x is undefined'), 'internalServer'],
    ['a refused connection', new RerankError('network_error', 'Connection failed (ECONNREFUSED)'), undefined],
    ['a 404 (misconfigured)', asDeploymentFault(upstream('not_found', 404), 'd'), undefined],
    ['a redirect', asDeploymentFault(upstream('upstream_error', 302), 'd'), undefined],
    ['an abort', new RerankError('aborted', 'The request was aborted'), undefined],
  ]
  for (const [what, error, expected] of table) {
    it(`${what} -> ${expected ?? 'no class'}`, () => {
      expect(failureClassOf(error)).toBe(expected)
    })
  }
})

describe('policyValue', () => {
  it("reads the policy's number for the failure's class, undefined when the class is not named", () => {
    const policy = { rateLimit: 5, authentication: 0 }
    expect(policyValue(policy, upstream('rate_limited', 429))).toBe(5)
    // 0 is a value: no retries, not "unset".
    expect(policyValue(policy, upstream('unauthorized', 401))).toBe(0)
    expect(policyValue(policy, upstream('upstream_error', 500))).toBeUndefined()
    expect(policyValue(undefined, upstream('rate_limited', 429))).toBeUndefined()
  })
})
