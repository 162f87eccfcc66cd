import { describe, expect, it } from 'vitest'
import { RerankError, rerankErrorCodes, statusOfCode } from '../errors/rerank-error'
import { rerankFormats } from '../formats/index'
import { errorFromHttpResponse, errorResponse } from './error-response'

// Every code, written by every format's error writer, read back by the client side: the status and the
// message survive, and so does the code wherever the status names one code alone (405 and 408 included,
// which once answered `not_found` and `timeout` for want of a code of their own).

/** The codes that share their status with another: only our native body can tell them apart. */
const sharedStatus = new Set(
  rerankErrorCodes.filter((code) =>
    rerankErrorCodes.some((other) => other !== code && statusOfCode(other) === statusOfCode(code)),
  ),
)

describe('error codes through every format', () => {
  for (const [name, format] of Object.entries(rerankFormats)) {
    it(`${name}: status, message and code come back`, () => {
      for (const code of rerankErrorCodes) {
        const sent = new RerankError(code, `why ${code}`)
        const answer = errorResponse(sent, format.formatError)
        expect(answer.status, code).toBe(statusOfCode(code))
        const read = errorFromHttpResponse(answer.status, JSON.parse(JSON.stringify(answer.body)))
        expect(read.message, code).toBe(sent.publicMessage)
        expect(read.upstreamStatus, code).toBe(answer.status)
        // An upstream's 500 is its failure, never our `internal`: read as upstream_error.
        if (code === 'internal') expect(read.code).toBe('upstream_error')
        else if (name === 'native' || !sharedStatus.has(code)) expect(read.code, `${name} ${code}`).toBe(code)
      }
    })
  }

  it('405 and 408 have codes of their own: method_not_allowed (final), request_timeout (retryable)', () => {
    expect(new RerankError('method_not_allowed', 'x')).toMatchObject({ status: 405, retryable: false })
    expect(new RerankError('request_timeout', 'x')).toMatchObject({ status: 408, retryable: true })
    expect(rerankFormats.tei.formatError(new RerankError('request_timeout', 'slow'))).toEqual({
      error: 'slow',
      error_type: 'validation',
    })
    expect(rerankFormats.infinity.formatError(new RerankError('method_not_allowed', 'use POST'))).toEqual({
      error: { message: 'use POST', type: 'method_not_allowed', code: 405 },
    })
  })
})
