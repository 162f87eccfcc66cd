import { context, propagation, trace } from '@opentelemetry/api'
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node'

/**
 * An OpenTelemetry SDK as a host app registers one (global provider, W3C propagator, AsyncLocalStorage
 * context), its spans kept in memory for a test to read. `stop` removes it all, as if none had been registered.
 */
export function recordSpans() {
  const exporter = new InMemorySpanExporter()
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  return {
    provider,
    start: () => provider.register(),
    /** The spans ended since the last call. */
    finished: (): ReadableSpan[] => {
      const spans = exporter.getFinishedSpans()
      exporter.reset()
      return spans
    },
    stop: async () => {
      await provider.shutdown()
      trace.disable()
      context.disable()
      propagation.disable()
    },
  }
}
