import type { Logger } from '@rerank-kit/protocol'

/** How long stopping waits for the last spans to reach the collector. */
const flushTimeoutMs = 2000

/**
 * Exports the spans of every rerank-kit package (they only use `@opentelemetry/api`) to an OTLP/HTTP collector:
 * a tracer provider registered for this process, spans batched, JSON over HTTP. The SDK is imported only when
 * an endpoint is set, so a server without one loads none of it.
 */
export async function startTraceExport(
  endpoint: string,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<{ shutdown(): Promise<void> }> {
  const [{ BatchSpanProcessor, NodeTracerProvider }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ])
  const url = tracesUrl(endpoint)
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || 'rerank-kit'
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  })
  // Sets the global tracer provider, the W3C trace-context propagator and an AsyncLocalStorage context manager.
  provider.register()
  logger.info('exporting traces', { endpoint: new URL(url).origin, service: serviceName })
  return {
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<void>((done) => {
        timer = setTimeout(done, flushTimeoutMs)
      })
      await Promise.race([provider.shutdown().catch(() => {}), late])
      clearTimeout(timer)
    },
  }
}

/** As OTEL_EXPORTER_OTLP_ENDPOINT: a base URL gets `/v1/traces`; a URL already ending with it is kept. */
export function tracesUrl(endpoint: string): string {
  const trimmed = endpoint.trim().replace(/\/+$/, '')
  return trimmed.endsWith('/v1/traces') ? trimmed : `${trimmed}/v1/traces`
}
