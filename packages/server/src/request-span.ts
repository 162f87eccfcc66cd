import {
  endSpan,
  incomingTraceContext,
  type RerankRequest,
  type RerankResponse,
  type Span,
  SpanKind,
  startSpan,
  type TraceContext,
} from '@rerank-kit/protocol'
import type { PlainRequest } from './handler-types'
import { headerValue } from './request-headers'

/**
 * The server span of one rerank request (OpenTelemetry, a no-op unless the host registers an SDK): a child of
 * the host's own HTTP span when its instrumentation opened one, else of the caller's `traceparent`. The
 * reranker runs inside it, so a router's attempts, a client's calls and the local engine's work nest below.
 */
export function startRequestSpan(
  request: Pick<PlainRequest, 'headers'>,
  path: string,
  family: string,
): { span: Span; context: TraceContext } {
  return startSpan(
    `POST ${path}`,
    SpanKind.SERVER,
    {
      'http.request.method': 'POST',
      'http.route': path,
      'gen_ai.operation.name': 'rerank',
      'rerank.api': family,
    },
    incomingTraceContext((name) => headerValue(request.headers, name)),
  )
}

/** What the request asked for, once its body is read. */
export function describeRequest(span: Span, request: RerankRequest): void {
  if (!span.isRecording()) return
  span.setAttribute('rerank.documents.count', request.documents.length)
  if (request.model !== undefined) span.setAttribute('gen_ai.request.model', request.model)
  if (request.topN !== undefined) span.setAttribute('rerank.top_n', request.topN)
}

/**
 * Ends the span with the answer's status. As the HTTP conventions say for a server, only a 5xx marks the span
 * failed; a 4xx is the caller's error, named in `error.type` alone.
 */
export function endRequestSpan(
  span: Span,
  status: number,
  outcome: { answered: RerankResponse } | { thrown: unknown; code: string },
): void {
  if (span.isRecording()) {
    span.setAttribute('http.response.status_code', status)
    if ('answered' in outcome) {
      const { answered } = outcome
      if (answered.usage?.totalTokens !== undefined) {
        span.setAttribute('gen_ai.usage.input_tokens', answered.usage.totalTokens)
      }
      span.setAttribute('rerank.results.count', answered.results.length)
    } else if (status < 500) {
      span.setAttribute('error.type', outcome.code)
      span.end()
      return
    }
  }
  endSpan(span, 'thrown' in outcome ? outcome.thrown : undefined)
}
