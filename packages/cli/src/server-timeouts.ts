import type { ServerOptions } from 'node:http'
import type { Settings } from './settings'

/**
 * node:http options that bound how long a client may take to send its request, so slow clients (slowloris:
 * headers a byte at a time, or a body that trickles) cannot hold connections open: past the limit node
 * answers 408 and closes. Only receiving is bounded; a slow answer (a long inference) is not cut.
 */
export function serverTimeouts(settings: Pick<Settings, 'headersTimeout' | 'bodyTimeout'>): ServerOptions {
  return {
    headersTimeout: settings.headersTimeout,
    requestTimeout: settings.bodyTimeout,
    // Node looks for expired requests only this often (30 s by default), which would leave a slow client its
    // connection for up to 30 s past the timeout.
    connectionsCheckingInterval: Math.min(1000, settings.headersTimeout),
  }
}
