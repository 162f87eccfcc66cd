import type { RerankHandlerOptions } from './handler-types'

type Cors = NonNullable<RerankHandlerOptions['cors']>

/** The allow-origin headers for an actual request: the origin echoed when allowed, nothing otherwise. */
export function corsHeaders(cors: Cors, origin: string | undefined): Record<string, string> {
  if (origin === undefined) return {}
  if (cors.origins === '*') return { 'access-control-allow-origin': '*' }
  if (!cors.origins.includes(origin)) return { vary: 'origin' }
  return { 'access-control-allow-origin': origin, vary: 'origin' }
}

export function preflightHeaders(cors: Cors, origin: string | undefined): Record<string, string> {
  const allowed = corsHeaders(cors, origin)
  if (!('access-control-allow-origin' in allowed)) return allowed
  return {
    ...allowed,
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, x-api-key, x-request-id',
    'access-control-expose-headers': 'x-request-id, retry-after, server-timing',
    'access-control-max-age': String(cors.maxAgeSeconds ?? 600),
  }
}
