import { context, SpanStatusCode, trace } from '@opentelemetry/api'
import { RerankError, type RerankRequest, traceHeaders } from '@rerank-kit/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordSpans } from '../../protocol/src/test-support/recorded-spans'
import { createRerankHandler } from './create-rerank-handler'
import type { PlainRequest } from './handler-types'
import { OverlapReranker } from './test-support/overlap-reranker'

// The handler's server span (OpenTelemetry through @opentelemetry/api): a no-op without an SDK; with one, a
// child of the caller's traceparent or of the host's own active span, the reranker running inside it, and
// failures told apart as the HTTP server conventions say (a 4xx names its error, only a 5xx marks the span).

const request = (headers: Record<string, string> = {}, body: unknown = undefined): PlainRequest => ({
  method: 'POST',
  path: '/v1/rerank',
  headers: { 'content-type': 'application/json', ...headers },
  body: body ?? {
    model: 'overlap',
    query: 'red apple',
    documents: ['green pear', 'red apple pie'],
    top_n: 1,
  },
})

/** The overlap reranker, recording the span active while it runs and the trace headers it would send on. */
class TracedReranker extends OverlapReranker {
  seen: { spanId: string | undefined; headers: Record<string, string> | undefined }[] = []
  failWith: RerankError | undefined
  override async rerank(rerankRequest: RerankRequest, options: { signal?: AbortSignal } = {}) {
    this.seen.push({ spanId: trace.getActiveSpan()?.spanContext().spanId, headers: traceHeaders() })
    if (this.failWith) throw this.failWith
    return super.rerank(rerankRequest, options)
  }
}

describe('without an SDK', () => {
  it('answers as before, and the reranker has no span and no trace to send on', async () => {
    const reranker = new TracedReranker()
    const answer = await createRerankHandler({ reranker })(
      request({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }),
    )
    expect(answer.status).toBe(200)
    expect(reranker.seen).toEqual([{ spanId: undefined, headers: undefined }])
  })
})

describe('with an SDK registered by the host', () => {
  const { provider, start, finished, stop } = recordSpans()
  const reranker = new TracedReranker()
  const handler = createRerankHandler({ reranker })
  beforeAll(start)
  afterAll(stop)

  it("continues the caller's traceparent; the reranker runs inside the span and sends the trace on", async () => {
    reranker.seen = []
    const answer = await handler(
      request({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }),
    )
    expect(answer.status).toBe(200)
    const [span, ...others] = finished()
    expect(others).toEqual([])
    expect(span!.name).toBe('POST /v1/rerank')
    expect(span!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(span!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7')
    expect(span!.status.code).toBe(SpanStatusCode.UNSET)
    expect(span!.attributes).toEqual({
      'http.request.method': 'POST',
      'http.route': '/v1/rerank',
      'http.response.status_code': 200,
      'gen_ai.operation.name': 'rerank',
      'gen_ai.request.model': 'overlap',
      'gen_ai.usage.input_tokens': 42,
      'rerank.api': 'cohere',
      'rerank.documents.count': 2,
      'rerank.results.count': 1,
      'rerank.top_n': 1,
    })
    const [seen] = reranker.seen
    expect(seen!.spanId).toBe(span!.spanContext().spanId)
    expect(seen!.headers).toEqual({
      traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${span!.spanContext().spanId}-01`,
    })
  })

  it("is a child of the host's own span when its instrumentation opened one (the header is then its business)", async () => {
    const tracer = provider.getTracer('host')
    const hostSpan = tracer.startSpan('host http server')
    await context.with(trace.setSpan(context.active(), hostSpan), () =>
      handler(request({ traceparent: '00-11111111111111111111111111111111-2222222222222222-01' })),
    )
    hostSpan.end()
    const ours = finished().find((span) => span.name === 'POST /v1/rerank')!
    expect(ours.spanContext().traceId).toBe(hostSpan.spanContext().traceId)
    expect(ours.parentSpanContext?.spanId).toBe(hostSpan.spanContext().spanId)
  })

  it('names a 4xx in error.type without marking the span failed; a 5xx marks it', async () => {
    const bad = await handler(request({}, { query: 'q', documents: 'not a list' }))
    expect(bad.status).toBe(400)
    const [refused] = finished()
    expect(refused!.attributes['http.response.status_code']).toBe(400)
    expect(refused!.attributes['error.type']).toBe('invalid_request')
    expect(refused!.status.code).toBe(SpanStatusCode.UNSET)

    reranker.failWith = new RerankError('internal', 'the model crashed')
    const failed = await handler(request())
    reranker.failWith = undefined
    expect(failed.status).toBe(500)
    const [span] = finished()
    expect(span!.attributes['http.response.status_code']).toBe(500)
    expect(span!.attributes['error.type']).toBe('internal')
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the model crashed' })
  })

  it('opens no span for routes that are not rerank calls (health, models)', async () => {
    expect((await handler({ method: 'GET', path: '/health', headers: {} })).status).toBe(200)
    expect(finished()).toEqual([])
  })
})
