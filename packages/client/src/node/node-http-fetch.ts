import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { type BoundedRequestInit, responseTooLarge } from '../response-limit'

export interface NodeHttpFetchOptions {
  /** Connections per origin (default 64): more concurrent calls wait for a free one. */
  maxSockets?: number
  /**
   * An idle connection is closed after this long (default 4 s): below the 5 s keep-alive of Node servers, so a
   * call never reuses a connection the server is closing (the classic keep-alive ECONNRESET race).
   */
  idleSocketMs?: number
}

/**
 * A `fetch` for `RerankClient` on Node, over node:http keep-alive connections: `new RerankClient({ ..., fetch:
 * nodeHttpFetch() })`. Node 20's built-in fetch spends about 5 times the CPU of node:http per call (measured
 * by benchmarks/src/router-bench.ts: 490 vs 100 µs at 32 concurrent calls); a router or a proxy makes every
 * call through it. It implements what the client uses: method, headers, a string body, signal; the answer is
 * read whole (ok, status, headers.get, text, json, arrayBuffer), up to `init.maxResponseBytes` (RerankClient
 * passes its bound: past it the connection is destroyed and the call rejects with the client's error).
 * Failures look like fetch's: a TypeError "fetch failed" whose cause carries the system code, or the signal's
 * reason on abort.
 */
export function nodeHttpFetch(options: NodeHttpFetchOptions = {}): typeof fetch {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 64,
    timeout: options.idleSocketMs ?? 4_000,
  }
  const http = new HttpAgent(agentOptions)
  const https = new HttpsAgent(agentOptions)
  const nodeFetch = (input: string | URL | Request, init: BoundedRequestInit = {}): Promise<Response> => {
    if (typeof input === 'object' && 'method' in input) {
      return Promise.reject(new TypeError('nodeHttpFetch takes a URL, not a Request'))
    }
    const target = targetOf(typeof input === 'string' ? input : input.href)
    const secure = target.secure
    const signal = init.signal ?? undefined
    const limit = init.maxResponseBytes ?? Number.POSITIVE_INFINITY
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const body = bodyBytes(init.body)
      const headers = plainHeaders(init.headers)
      if (body !== undefined) headers['content-length'] = String(body.length)
      const outgoing = (secure ? httpsRequest : httpRequest)(
        { ...target.options, method: init.method ?? 'GET', headers, agent: secure ? https : http },
        (incoming) => {
          const chunks: Buffer[] = []
          let received = 0
          // Past the bound nothing more is read: the socket is destroyed (not returned to the pool, which
          // would have to drain the rest) and the call fails with the RerankClient's error for it.
          const tooLarge = () => {
            signal?.removeEventListener('abort', onAbort)
            incoming.destroy()
            outgoing.destroy()
            reject(responseTooLarge(limit))
          }
          if (Number(incoming.headers['content-length']) > limit) return tooLarge()
          incoming.on('data', (chunk: Buffer) => {
            received += chunk.length
            if (received > limit) {
              chunks.length = 0
              return tooLarge()
            }
            chunks.push(chunk)
          })
          incoming.on('end', () => {
            signal?.removeEventListener('abort', onAbort)
            resolve(bufferedResponse(incoming.statusCode ?? 0, incoming.headers, Buffer.concat(chunks)))
          })
          incoming.on('error', fail)
        },
      )
      function fail(error: Error) {
        signal?.removeEventListener('abort', onAbort)
        // After tooLarge the promise is settled: this reject is a no-op.
        reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }))
      }
      function onAbort() {
        outgoing.destroy()
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      outgoing.on('error', fail)
      outgoing.end(body)
    })
  }
  return nodeFetch as typeof fetch
}

interface Target {
  secure: boolean
  options: { protocol: string; hostname: string; port: string; path: string; auth?: string }
}

// A client posts to one URL over and over: parsing it once saves the URL parse and its conversion per call.
const targets = new Map<string, Target>()
const maxCachedTargets = 256

function targetOf(href: string): Target {
  let target = targets.get(href)
  if (target === undefined) {
    const url = new URL(href)
    target = {
      secure: url.protocol === 'https:',
      options: {
        protocol: url.protocol,
        // `[::1]` -> `::1`: node:http takes the bare address.
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port,
        path: url.pathname + url.search,
        ...(url.username
          ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` }
          : {}),
      },
    }
    if (targets.size >= maxCachedTargets) targets.clear()
    targets.set(href, target)
  }
  return target
}

function bodyBytes(body: RequestInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') return Buffer.from(body)
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  throw new TypeError('nodeHttpFetch sends string or byte bodies only')
}

function plainHeaders(headers: RequestInit['headers']): Record<string, string> {
  const plain: Record<string, string> = {}
  if (headers === undefined) return plain
  const entries: Iterable<readonly [string, string]> =
    headers instanceof Headers
      ? headers
      : Array.isArray(headers)
        ? (headers as [string, string][])
        : Object.entries(headers as Record<string, string>)
  for (const [name, value] of entries) plain[name.toLowerCase()] = value
  return plain
}

/** The parts of a Response the client reads, over a body already read whole. */
function bufferedResponse(status: number, headers: IncomingHttpHeaders, body: Buffer): Response {
  const text = () => body.toString('utf8')
  const response = {
    status,
    ok: status >= 200 && status < 300,
    headers: {
      get(name: string) {
        const value = headers[name.toLowerCase()]
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
      },
      has: (name: string) => headers[name.toLowerCase()] !== undefined,
    },
    text: async () => text(),
    json: async () => JSON.parse(text()),
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength),
  }
  return response as unknown as Response
}
