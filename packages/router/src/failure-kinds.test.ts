import { codeFromStatus, RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import {
  asDeploymentFault,
  asUpstreamTimeout,
  countsAgainstDeployment,
  isAuthFailure,
  isCallersFault,
  isMisdirected,
  isWorthRetrying,
  markWrongAnswer,
  mayPassOnRetry,
} from './failure-kinds'

// How the router reads each failure, as a table: LiteLLM's rules, plus the cases it is easy to get wrong.

const upstream = (status: number) =>
  new RerankError(codeFromStatus(status), `HTTP ${status}`, { upstreamStatus: status })

const read = (error: RerankError) => [
  isWorthRetrying(error),
  countsAgainstDeployment(error),
  isCallersFault(error),
]

describe('failure kinds', () => {
  it('upstream statuses: 5xx, 408 and 429 retry elsewhere; 401 and 404 count but do not retry', () => {
    const table = [500, 502, 503, 504, 408, 429, 401, 404, 400, 403, 413, 422].map((status) => [
      status,
      ...read(upstream(status)),
    ])
    expect(table).toEqual([
      [500, true, true, false],
      [502, true, true, false],
      [503, true, true, false],
      [504, true, true, false],
      [408, true, true, false],
      [429, true, true, false],
      [401, false, true, false],
      [404, false, true, false],
      [400, false, false, true],
      [403, false, false, false],
      [413, false, false, true],
      [422, false, false, true],
    ])
  })

  it("a backend's 408 is an upstream timeout for the caller (504), retried and counted as before", () => {
    const raw = upstream(408)
    expect(raw.code).toBe('request_timeout')
    const read408 = asUpstreamTimeout(raw)
    expect(read408).toMatchObject({ code: 'timeout', status: 504, upstreamStatus: 408, retryable: true })
    expect(read(read408)).toEqual([true, true, false])
    const other = upstream(503)
    expect(asUpstreamTimeout(other)).toBe(other)
  })

  it('no answer at all (timeout, no connection) retries and counts; the caller aborting does neither', () => {
    expect(read(new RerankError('timeout', 'late'))).toEqual([true, true, false])
    expect(read(new RerankError('network_error', 'reset'))).toEqual([true, true, false])
    expect(read(new RerankError('aborted', 'gone'))).toEqual([false, false, true])
  })

  it('a 200 whose body is not JSON is the deployment failing, like a body of the wrong shape', () => {
    // What the client throws for a truncated 200 body: its 2xx status must not read as a success.
    const notJson = new RerankError('upstream_error', 'Invalid response from the reranker: not JSON', {
      upstreamStatus: 200,
    })
    const wrongShape = new RerankError('upstream_error', 'Invalid response: results.0.relevance_score')
    expect(read(notJson)).toEqual([true, true, false])
    expect(read(wrongShape)).toEqual([true, true, false])
  })

  it('a redirect, 401, 403, 404 or 407 is misdirected: as the deployment fault, it retries and counts', () => {
    const statuses = [301, 302, 307, 308, 401, 403, 404, 407, 400, 422, 429, 500]
    expect(statuses.filter((status) => isMisdirected(upstream(status)))).toEqual([
      301, 302, 307, 308, 401, 403, 404, 407,
    ])
    expect(statuses.filter((status) => isAuthFailure(upstream(status)))).toEqual([401, 403, 407])
    for (const status of [302, 401, 403, 404]) {
      const fault = asDeploymentFault(upstream(status), 'rerank#1')
      expect([fault.code, fault.status, fault.upstreamStatus], String(status)).toEqual([
        'upstream_error',
        502,
        status,
      ])
      expect(read(fault), String(status)).toEqual([true, true, false])
      // Converted once: not misdirected again, and the backend's text is gone.
      expect(isMisdirected(fault)).toBe(false)
      expect(fault.message).toBe(
        `Deployment rerank#1 answered HTTP ${status}: misconfigured (its answer is not passed on)`,
      )
    }
  })
})

describe('mayPassOnRetry (going back to a deployment already tried)', () => {
  it('transient failures may pass; a misconfigured deployment or a wrong answer fails the same way', () => {
    const transient = [upstream(500), upstream(503), upstream(429), new RerankError('timeout', 'late')]
    for (const error of transient) expect(mayPassOnRetry(error), error.message).toBe(true)
    expect(mayPassOnRetry(new RerankError('network_error', 'Connection failed (ECONNRESET)'))).toBe(true)
    const misconfigured = [302, 401, 403, 404, 407].map((status) => asDeploymentFault(upstream(status), 'd'))
    for (const error of misconfigured) expect(mayPassOnRetry(error), error.message).toBe(false)
    // A 200 that was not JSON is not known to be deterministic: tried again.
    expect(mayPassOnRetry(new RerankError('upstream_error', 'bad JSON', { upstreamStatus: 200 }))).toBe(true)
    expect(mayPassOnRetry(markWrongAnswer(new RerankError('upstream_error', 'answered wrongly')))).toBe(false)
  })
})
