import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api'
import { fromUnknown } from './errors/rerank-error'

export type { Context as TraceContext, Span }
/**
 * OpenTelemetry spans through `@opentelemetry/api` only: without an SDK registered by the host app, every span
 * here is a non-recording one and nothing is exported (a few objects per call). One tracer for every package:
 * the handler, the router's attempts, the client's calls and the local engine share it, so a host's trace shows
 * them as one tree. Attribute names follow the semantic conventions where one exists (`http.*`, `server.*`,
 * `gen_ai.*`, `error.type`) and `rerank.*` for ours.
 */
export { SpanKind }

// A proxy until the host registers a provider, which it then delegates to: made once, at import.
const tracer = trace.getTracer('rerank-kit')

/** Starts a span as a child of `parent` (the active context unless given); the caller ends it. */
export function startSpan(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  parent: Context = context.active(),
): { span: Span; context: Context } {
  const span = tracer.startSpan(name, { kind, attributes }, parent)
  // Without an SDK the span is a placeholder: a new context (a copy of the parent's map) would carry nothing.
  if (!span.isRecording() && !isSpanContextValid(span.spanContext())) return { span, context: parent }
  return { span, context: trace.setSpan(parent, span) }
}

/** Ends a span, marking it failed with the error's code (`error.type`) when there is one. */
export function endSpan(span: Span, failure?: unknown): void {
  if (failure !== undefined && span.isRecording()) {
    const error = fromUnknown(failure)
    span.setAttribute('error.type', error.code)
    if (error.upstreamStatus !== undefined)
      span.setAttribute('http.response.status_code', error.upstreamStatus)
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
  }
  span.end()
}

/** Runs `work` with `active` as the active context (its spans and outgoing calls become its children). */
export function withContext<T>(active: Context, work: () => T): T {
  return context.with(active, work)
}

/** `work` inside a span that is the active one meanwhile, ended when its promise settles. */
export function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const { span, context: active } = startSpan(name, kind, attributes)
  // Nothing to record (no SDK, or sampled out): no async layer of our own, only the context for the children.
  if (!span.isRecording()) return context.with(active, work, undefined, span)
  return recorded(span, active, work)
}

async function recorded<T>(span: Span, active: Context, work: (span: Span) => Promise<T>): Promise<T> {
  try {
    const result = await context.with(active, work, undefined, span)
    span.end()
    return result
  } catch (thrown) {
    endSpan(span, thrown)
    throw thrown
  }
}

/**
 * The headers that carry the active trace to a remote backend (W3C `traceparent`, `tracestate`, with the
 * propagator the host registered), or undefined when there is none to carry.
 */
export function traceHeaders(): Record<string, string> | undefined {
  const carrier: Record<string, string> = {}
  propagation.inject(context.active(), carrier)
  for (const _ in carrier) return carrier
  return undefined
}

/**
 * The context a server-side span starts from: the active one when the host's own instrumentation already
 * opened a span for this request (its HTTP server span), else the caller's trace from the request headers.
 */
export function incomingTraceContext(header: (name: string) => string | undefined): Context {
  const active = context.active()
  if (trace.getSpan(active) !== undefined) return active
  // No propagator registered (no SDK): nothing to read. Checked per request, as a host may register one later.
  if (propagation.fields().length === 0) return active
  return propagation.extract(active, header, headerGetter)
}

/** Reads a request's headers through the lookup the server passes (its carrier), made once. */
const headerGetter: TextMapGetter<(name: string) => string | undefined> = {
  get: (header, key) => header(key),
  keys: () => propagation.fields(),
}
