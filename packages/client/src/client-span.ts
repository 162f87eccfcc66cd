import type { RerankRequest } from '@rerank-kit/protocol'

/**
 * The attributes of a client call's span (OpenTelemetry HTTP client conventions, plus ours): the server's
 * address and the path, never the full URL (a query string may hold a key) nor a header.
 */
export function clientSpanOf(
  url: string,
  format: string,
): {
  name: string
  attributes: (request: RerankRequest) => Record<string, string | number>
} {
  const parsed = new URL(url)
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80))
  const fixed = {
    'http.request.method': 'POST',
    'server.address': parsed.hostname,
    'server.port': port,
    'url.path': parsed.pathname,
    'rerank.format': format,
  }
  return {
    name: `POST ${parsed.pathname}`,
    attributes: (request) => ({
      ...fixed,
      'rerank.documents.count': request.documents.length,
      ...(request.model !== undefined && { 'gen_ai.request.model': request.model }),
    }),
  }
}
