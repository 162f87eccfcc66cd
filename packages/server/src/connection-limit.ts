import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { RerankError } from '@rerank-kit/protocol'

/**
 * A cap on a node:http server's open connections. Past it a connection is still accepted, so that its first
 * request can be told 503 + Retry-After (in the route's format) before its body is read, and then closed: a
 * dropped connection tells a client nothing. Node's own `maxConnections` is kept at twice the cap as a hard
 * ceiling, so a flood of connections that never send a request cannot grow without bound meanwhile.
 */
export class ConnectionLimit {
  private open = 0
  private readonly over = new WeakSet<Socket>()

  constructor(readonly maxConnections: number) {
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new TypeError(`maxConnections must be an integer >= 1 (got ${maxConnections})`)
    }
  }

  /** Connections open now, refused ones included until they close. */
  get count(): number {
    return this.open
  }

  watch(server: Server): void {
    server.maxConnections = this.maxConnections * 2
    server.on('connection', (socket: Socket) => {
      this.open++
      if (this.open > this.maxConnections) this.over.add(socket)
      socket.once('close', () => {
        this.open--
      })
    })
  }

  /** The refusal for a request on a connection past the cap, or undefined. */
  refusalFor(socket: Socket | null | undefined): RerankError | undefined {
    if (!socket || !this.over.has(socket)) return undefined
    return new RerankError(
      'overloaded',
      `The server has its limit of ${this.maxConnections} connections open, retry later`,
      { retryAfterMs: 1000 },
    )
  }
}
