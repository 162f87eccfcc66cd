import { codeFromStatus, RerankError } from '@rerank-kit/protocol'
import { describe, expect, it } from 'vitest'
import { countsAgainstDeployment, isCallersFault, isWorthRetrying } from './failure-kinds'

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
})
