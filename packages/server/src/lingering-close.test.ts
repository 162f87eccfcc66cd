import { createServer } from 'node:http'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { closeAfterAnswer, type LingerBounds } from './lingering-close'
import { listening } from './test-support/listening'

// The bounds of a lingering close, on a bare node:http server that refuses every request from its headers
// (401, as the rerank handler would) and lingers with small bounds, against clients that misbehave after
// the answer: keep sending, stop sending without closing, close.

async function refusingServer(bounds: LingerBounds) {
  // When the server's side of each connection closed, ms after its request: a client that already had the
  // server's FIN and sends nothing more sees no sign of it.
  const closedAfterMs: number[] = []
  const server = createServer((request, response) => {
    const started = performance.now()
    request.socket.once('close', () => closedAfterMs.push(performance.now() - started))
    closeAfterAnswer(request, response, bounds)
    response.writeHead(401, { 'content-length': 2 }).end('no')
  })
  return { closedAfterMs, ...(await listening(server)) }
}

const until = async (done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 20))
}

/**
 * Sends a head announcing a large body, then `chunk` every `everyMs` (never, when 0) for as long as the
 * socket is writable; answers no FIN (allowHalfOpen), like a client busy uploading.
 */
function upload(url: string, chunk: Buffer, everyMs: number) {
  const { hostname, port } = new URL(url)
  const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true })
  const started = performance.now()
  let received = ''
  let sent = 0
  let error: string | undefined
  socket.on('error', (failure: NodeJS.ErrnoException) => {
    error = failure.code
  })
  socket.on('data', (data) => {
    received += data.toString('latin1')
  })
  socket.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000\r\n\r\n')
  socket.write(chunk)
  sent += chunk.length
  const writing =
    everyMs > 0
      ? setInterval(() => {
          if (!socket.writable) return
          sent += chunk.length
          socket.write(chunk)
        }, everyMs)
      : undefined
  return {
    socket,
    closed: new Promise<{ received: string; sent: number; afterMs: number; error?: string }>((resolve) => {
      socket.on('close', () => {
        clearInterval(writing)
        resolve({ received, sent, afterMs: performance.now() - started, ...(error && { error }) })
      })
    }),
  }
}

describe('closeAfterAnswer (lingering close)', () => {
  it('answers, ends its side, then drops what the client sends until the time bound', async () => {
    const app = await refusingServer({ maxBytes: 10 ** 9, maxMs: 600, idleMs: 300 })
    try {
      const client = upload(app.url, Buffer.alloc(100, 0x20), 50)
      const ended = new Promise<number>((resolve) =>
        client.socket.once('end', () => resolve(performance.now())),
      )
      const { received, afterMs } = await client.closed
      expect(received).toMatch(/^HTTP\/1\.1 401 [\s\S]*connection: close[\s\S]*\r\n\r\nno$/i)
      // Ended right after the answer; kept reading (the client sent every 50 ms) until the 600 ms bound.
      expect(await ended).toBeGreaterThan(0)
      expect(afterMs).toBeGreaterThan(550)
      expect(afterMs).toBeLessThan(1500)
    } finally {
      await app.close()
    }
  })

  it('closes once the client sent nothing for the idle bound', async () => {
    const app = await refusingServer({ maxBytes: 10 ** 9, maxMs: 5000, idleMs: 300 })
    try {
      const client = upload(app.url, Buffer.alloc(100, 0x20), 0)
      await until(() => app.closedAfterMs.length > 0)
      expect(app.closedAfterMs[0]).toBeGreaterThan(250)
      expect(app.closedAfterMs[0]).toBeLessThan(1500)
      client.socket.destroy()
      expect((await client.closed).received).toMatch(/^HTTP\/1\.1 401 /)
    } finally {
      await app.close()
    }
  })

  it('closes once it dropped maxBytes', async () => {
    const app = await refusingServer({ maxBytes: 5000, maxMs: 5000, idleMs: 5000 })
    try {
      const { received, afterMs, sent } = await upload(app.url, Buffer.alloc(1000, 0x20), 10).closed
      expect(received).toMatch(/^HTTP\/1\.1 401 /)
      expect(afterMs).toBeLessThan(1000)
      expect(sent).toBeGreaterThan(5000)
    } finally {
      await app.close()
    }
  })

  it('closes at once when the client closes its side, without a reset', async () => {
    const app = await refusingServer({ maxBytes: 10 ** 9, maxMs: 5000, idleMs: 5000 })
    try {
      const client = upload(app.url, Buffer.alloc(100, 0x20), 0)
      client.socket.once('end', () => client.socket.end())
      const { received, afterMs, error } = await client.closed
      expect(received).toMatch(/^HTTP\/1\.1 401 /)
      expect(error).toBeUndefined()
      expect(afterMs).toBeLessThan(1000)
    } finally {
      await app.close()
    }
  })
})
