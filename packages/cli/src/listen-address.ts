import { isIP } from 'node:net'

/** The URL of a bound address as `server.address()` gives it: `http://0.0.0.0:8000`, `http://[::]:8000`. */
export function urlOfAddress(address: string, port: number): string {
  return `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1, and ::ffff:127.x as IPv6 writes it). */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.')
}
