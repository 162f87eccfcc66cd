import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * How long a refused request's connection may stay open after the refusal, reading and dropping its body: at
 * most this long in all (nginx's lingering_time), and at most `defaultLingerIdleMs` without a byte from the
 * client (its lingering_timeout). 2 s in all cut off some of 200 eager 10 MiB uploads to `rerank-kit serve`
 * on a 2-core VM (2 GB to drop took 2.2 s); both stay far below the 30 s a body may take to arrive.
 */
export const defaultLingerMs = 10_000
export const defaultLingerIdleMs = 2000

export interface LingerBounds {
  /** Bytes of body dropped at most before the connection is closed (the body limit: see below). */
  maxBytes: number
  /** Time at most, from the refusal, before the connection is closed. */
  maxMs?: number
  /** Time at most without a byte from the client. */
  idleMs?: number
}

/**
 * Closes the connection of a request whose body is left unread once its answer is out, without resetting a
 * client that is still sending (nginx's lingering close). Most clients (fetch/undici, axios) send the body
 * right after the headers without waiting for an answer, and some read the answer only once they sent it
 * all; closing a socket with their bytes unread makes the kernel send a reset, which can throw the answer away
 * before the client has read it (179 of 200 eager 10 MiB uploaders measured). So the answer says
 * `connection: close`, the write side is ended after it (the client sees the whole answer, then the end), and
 * what the client still sends is read and dropped, never held: until the body ends (its declared length), the
 * client closes, `maxBytes` were dropped, or a time bound passed, whichever comes first; then the socket is
 * destroyed.
 */
export function closeAfterAnswer(
  request: IncomingMessage,
  response: ServerResponse,
  { maxBytes, maxMs = defaultLingerMs, idleMs = defaultLingerIdleMs }: LingerBounds,
): void {
  if (!response.headersSent) response.setHeader('connection', 'close')
  const socket = request.socket as Socket | null
  if (!socket || socket.destroyed) return
  // The timers are cleared by the socket's 'close', whoever closes it.
  const close = () => socket.destroy()
  // Nothing more will be read: close once the answer is out (a destroy before would drop what is unsent).
  const closeOnceAnswered = () => {
    if (response.writableFinished) close()
    else response.once('finish', close)
  }
  const deadline = setTimeout(close, maxMs).unref()
  const idle = setTimeout(close, idleMs).unref()
  socket.once('close', () => {
    clearTimeout(deadline)
    clearTimeout(idle)
  })
  // node:http ends an answer marked `connection: close` with socket.destroySoon(): end, then destroy as soon
  // as the end is flushed, unread bytes or not (lib/_http_server.js, resOnFinish). Here the end alone: the
  // destroy is ours, once lingering is over.
  socket.destroySoon = () => {
    if (socket.writable) socket.end()
  }
  // Reading with a listener that drops each chunk: node:http then never dumps the request itself (a dumped
  // body is dropped where it cannot be counted), and nothing is buffered.
  let dropped = 0
  request.removeAllListeners('data')
  request.on('data', (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > maxBytes) close()
    else idle.refresh()
  })
  request.once('end', closeOnceAnswered)
  // The client closed its side: nothing more to wait for.
  socket.once('end', closeOnceAnswered)
  request.resume()
}
