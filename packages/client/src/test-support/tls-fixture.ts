import { readFileSync } from 'node:fs'
import type { RequestListener } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'

/**
 * The committed TLS test fixture (see tls/README.md): a test CA and two server certificates it signed. Test
 * keys, public on purpose: never trust this CA outside the tests.
 */
const read = (name: string) => readFileSync(new URL(`./tls/${name}`, import.meta.url), 'utf8')

export const testCa = read('ca.pem')
/** SAN DNS:localhost, IP:127.0.0.1, IP:::1. */
export const localhostCert = { cert: read('localhost.pem'), key: read('localhost-key.pem') }
/** SAN DNS:other-host.test only: served on 127.0.0.1, its name does not match. */
export const otherHostCert = { cert: read('other-host.pem'), key: read('other-host-key.pem') }

export interface TlsServerOptions {
  /** The server certificate (default: localhost's). */
  identity?: { cert: string; key: string }
  /** Send the CA's certificate after the server's (default: the server's alone, as most servers do). */
  sendChain?: boolean
}

/** An https server on 127.0.0.1 on a free port, counting the TLS sessions it completed. */
export async function startTlsServer(listener: RequestListener, options: TlsServerOptions = {}) {
  const identity = options.identity ?? localhostCert
  const server: Server = createServer(
    { key: identity.key, cert: options.sendChain ? identity.cert + testCa : identity.cert },
    listener,
  )
  const counts = { tlsSessions: 0 }
  server.on('secureConnection', () => counts.tlsSessions++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
