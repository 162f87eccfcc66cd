import { context, SpanStatusCode, trace } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordSpans } from '../../protocol/src/test-support/recorded-spans'
import { request, scripted, testRouter, upstream } from './test-support/scripted-deployments'

// A span per attempt (OpenTelemetry, with an SDK registered as a host would): children of the caller's span,
// each naming its deployment by id and its number, a failed one marked with its error; the answer says which
// deployment answered after how many attempts (the server's x-rerank-deployment / x-rerank-attempts).

const { provider, start, finished, stop } = recordSpans()
beforeAll(start)
afterAll(stop)

describe('Router attempt spans', () => {
  it('one span per attempt under the caller span: the failed one marked, the retry answering', async () => {
    const first = scripted('first', [upstream(500)])
    const second = scripted('second', [])
    const { router } = testRouter(
      [
        { modelName: 'g', reranker: first.reranker, id: 'g-first' },
        { modelName: 'g', reranker: second.reranker, id: 'g-second' },
      ],
      { allowedFails: 10 },
    )
    const caller = provider.getTracer('test').startSpan('caller')
    const answer = await context.with(trace.setSpan(context.active(), caller), () => router.rerank(request))
    caller.end()
    expect(answer.routing).toEqual({ deployment: 'g-second', attempts: 2 })
    const attempts = finished().filter((span) => span.name === 'rerank.attempt')
    expect(attempts.map((span) => span.attributes)).toEqual([
      {
        'rerank.group': 'g',
        'rerank.deployment.id': 'g-first',
        'rerank.attempt': 1,
        'error.type': 'upstream_error',
        'http.response.status_code': 500,
      },
      { 'rerank.group': 'g', 'rerank.deployment.id': 'g-second', 'rerank.attempt': 2 },
    ])
    for (const span of attempts) expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId)
    expect(attempts.map((span) => span.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.UNSET])
  })
})
