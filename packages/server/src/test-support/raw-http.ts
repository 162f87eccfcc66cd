import { connect } from 'node:net'

// HTTP/1.1 over a bare TCP socket, for requests no well-behaved client sends: bytes that are not UTF-8 or not
// even valid HTTP, headers larger than any server accepts, bodies that never end, clients that dribble.

export interface RawRequest {
  /** The request line and headers, without the blank line that ends them (added unless `unfinished`). */
  head: string | Buffer
  /** Leave the head open: the server never sees the end of the headers (`stream` then dribbles into them). */
  unfinished?: boolean
  body?: string | Buffer
  /**
   * Send `body` only if nothing was received this many ms after the head: a client that waits for a refusal
   * before uploading, so `bytesWritten: 0` proves the server answered before reading a byte of the body.
   */
  holdBodyMs?: number
  /** Send `body` only once the server says `100 Continue` (the head should carry `expect: 100-continue`). */
  bodyOnContinue?: boolean
  /** After the head (and `body`), keep writing this chunk every `everyMs` until the server answers or closes. */
  stream?: { chunk: string | Buffer; everyMs: number }
}

export interface RawAnswer {
  /** Statuses of the interim (1xx) responses before the answer, e.g. [100]. */
  interim: number[]
  /** Status of the first final response; undefined when the server closed without answering. */
  status: number | undefined
  /** Lowercase names; a repeated header's values joined with ', '. */
  headers: Record<string, string>
  body: string
  /** Everything received, as latin1 text (to prove what was not in it). */
  raw: string
  /** False when we gave up waiting and closed the connection ourselves. */
  closedByServer: boolean
  /** Bytes written after the head (body and stream) before the server answered or closed. */
  bytesWritten: number
  /** The socket's error code (ECONNRESET: the server reset the connection), if any. */
  error?: string
}

function decodeChunked(data: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at)
    if (lineEnd === -1) break
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16)
    if (!Number.isFinite(size) || size === 0) break
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
  return Buffer.concat(parts)
}

/** The interim (1xx) responses at the start of what was received, and what follows them. */
function splitInterim(data: Buffer): { interim: number[]; rest: Buffer } {
  const interim: number[] = []
  let rest = data
  for (;;) {
    const status = /^HTTP\/1\.[01] (1\d\d) /.exec(rest.subarray(0, 16).toString('latin1'))?.[1]
    const headEnd = rest.indexOf('\r\n\r\n')
    if (status === undefined || headEnd === -1) return { interim, rest }
    interim.push(Number(status))
    rest = rest.subarray(headEnd + 4)
  }
}

function parseAnswer(received: Buffer): Omit<RawAnswer, 'closedByServer' | 'bytesWritten' | 'error'> {
  const raw = received.toString('latin1')
  const { interim, rest: data } = splitInterim(received)
  const headEnd = data.indexOf('\r\n\r\n')
  if (headEnd === -1) return { interim, status: undefined, headers: {}, body: '', raw }
  const [statusLine, ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1])
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  let body = data.subarray(headEnd + 4)
  if (headers['transfer-encoding'] === 'chunked') body = decodeChunked(body)
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']))
  return {
    interim,
    status: Number.isNaN(status) ? undefined : status,
    headers,
    body: body.toString('utf8'),
    raw,
  }
}

/** True once a whole final response (head, and the body its length announces) has arrived. */
function answered(received: Buffer): boolean {
  const data = splitInterim(received).rest
  const headEnd = data.indexOf('\r\n\r\n')
  if (headEnd === -1) return false
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(data.subarray(0, headEnd).toString('latin1'))?.[1]
  return length === undefined || data.length >= headEnd + 4 + Number(length)
}

/**
 * Sends one raw request and reads until the server closes the connection. Once an answer has arrived we stop
 * writing and give the server `closeWaitMs` to close before closing ourselves (`closedByServer: false`); a
 * server that neither answers nor closes within `giveUpMs` is given up on the same way.
 */
export function rawExchange(
  url: string,
  request: RawRequest,
  options: { closeWaitMs?: number; giveUpMs?: number } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url)
  const { closeWaitMs = 2000, giveUpMs = 20_000 } = options
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    const received: Buffer[] = []
    let closedByServer = true
    let bytesWritten = 0
    let streaming: NodeJS.Timeout | undefined
    let waitingForClose: NodeJS.Timeout | undefined
    let holding: NodeJS.Timeout | undefined
    const giveUp = setTimeout(() => {
      closedByServer = false
      socket.destroy()
    }, giveUpMs)
    const write = (data: string | Buffer) => {
      if (socket.destroyed || !socket.writable) return
      bytesWritten += Buffer.byteLength(data)
      socket.write(data)
    }
    socket.on('connect', () => {
      socket.write(request.head)
      if (!request.unfinished) socket.write('\r\n\r\n')
      const { body, holdBodyMs, bodyOnContinue } = request
      if (body !== undefined && holdBodyMs === undefined && !bodyOnContinue) write(body)
      if (body !== undefined && holdBodyMs !== undefined) {
        holding = setTimeout(() => {
          if (received.length === 0) write(body)
        }, holdBodyMs)
      }
      const { stream } = request
      if (stream) streaming = setInterval(() => write(stream.chunk), stream.everyMs)
    })
    let continued = false
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk)
      if (
        request.bodyOnContinue &&
        !continued &&
        splitInterim(Buffer.concat(received)).interim.includes(100)
      ) {
        continued = true
        if (request.body !== undefined) write(request.body)
      }
      if (waitingForClose === undefined && answered(Buffer.concat(received))) {
        clearInterval(streaming)
        waitingForClose = setTimeout(() => {
          closedByServer = false
          socket.destroy()
        }, closeWaitMs)
      }
    })
    // A reset is one way for a server to end a connection; what was received before it still counts.
    let error: string | undefined
    socket.on('error', (failure: NodeJS.ErrnoException) => {
      error = failure.code ?? String(failure)
    })
    socket.on('close', () => {
      clearInterval(streaming)
      clearTimeout(waitingForClose)
      clearTimeout(holding)
      clearTimeout(giveUp)
      const answer = { ...parseAnswer(Buffer.concat(received)), closedByServer, bytesWritten }
      resolve(error === undefined ? answer : { ...answer, error })
    })
  })
}
