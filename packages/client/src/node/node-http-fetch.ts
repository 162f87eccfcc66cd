import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import * as tls from 'node:tls'
import { type BoundedRequestInit, honoursDeadline, responseTooLarge } from '../response-limit'

export interface NodeHttpFetchOptions {
  /** Connections per origin (default 64): more concurrent calls wait for a free one. */
  maxSockets?: number
  /**
   * An idle connection is closed after this long (default 4 s): below the 5 s keep-alive of Node servers, so a
   * call never reuses a connection the server is closing (the classic keep-alive ECONNRESET race).
   */
  idleSocketMs?: number
  /**
   * https: more certificate authorities to trust (PEM, one or several certificates per string or Buffer), e.g.
   * the private CA of an internal reranker. They are added to Node's default trust (its bundled roots, plus
   * NODE_EXTRA_CA_CERTS), not put in its place: public endpoints keep working beside internal ones. Checked
   * when `nodeHttpFetch` is called: text with no valid certificate throws a TypeError.
   */
  ca?: string | Buffer | Array<string | Buffer>
  /**
   * https: refuse servers whose certificate does not verify (default true). `false` accepts any certificate,
   * for any host name: anyone on the path can read and change the calls, API keys included. Unsafe; add the
   * server's CA with `ca` instead.
   */
  rejectUnauthorized?: boolean
}

/**
 * A `fetch` for `RerankClient` on Node, over node:http keep-alive connections: `new RerankClient({ ..., fetch:
 * nodeHttpFetch() })`. Node 20's built-in fetch spends about 5 times the CPU of node:http per call (measured
 * by benchmarks/src/router-bench.ts: 490 vs 100 µs at 32 concurrent calls); a router or a proxy makes every
 * call through it. It implements what the client uses: method, headers, a string body, signal; the answer is
 * read whole (ok, status, headers.get, text, json, arrayBuffer), up to `init.maxResponseBytes` (RerankClient
 * passes its bound: past it the connection is destroyed and the call rejects with the client's error), within
 * `init.timeoutMs` when given (RerankClient passes its deadline: past it the connection is destroyed and the
 * call rejects with a `TimeoutError` DOMException).
 * Failures look like fetch's: a TypeError "fetch failed" whose cause carries the system code (a certificate
 * that does not verify: its TLS code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID), or
 * the signal's reason on abort.
 */
export function nodeHttpFetch(options: NodeHttpFetchOptions = {}): typeof fetch {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 64,
    timeout: options.idleSocketMs ?? 4_000,
  }
  const http = new HttpAgent(agentOptions)
  const https = new HttpsAgent({
    ...agentOptions,
    rejectUnauthorized: options.rejectUnauthorized !== false,
    // One context for every connection: with `ca` alone, each TLS connection would parse the whole trust
    // store again (about 20 ms for Node's 140-odd roots).
    ...(options.ca === undefined
      ? {}
      : { secureContext: tls.createSecureContext({ ca: trustWith(options.ca) }) }),
  })
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
      const body = bodyOf(init.body)
      const headers = headerList(init.headers)
      if (body !== undefined) {
        setHeader(
          headers,
          'content-length',
          String(typeof body === 'string' ? Buffer.byteLength(body) : body.length),
        )
      }
      // node:http adds Host (and Authorization for a URL's credentials) only to headers given as an object.
      if (!hasHeader(headers, 'host')) headers.push('Host', target.host)
      if (target.authorization !== undefined && !hasHeader(headers, 'authorization')) {
        headers.push('Authorization', target.authorization)
      }
      let timer: ReturnType<typeof setTimeout> | undefined
      // The call is settled (or about to be): its abort listener and its deadline go.
      const settle = () => {
        signal?.removeEventListener('abort', onAbort)
        if (timer !== undefined) clearTimeout(timer)
      }
      const outgoing = (secure ? httpsRequest : httpRequest)(
        { ...target.options, method: init.method ?? 'GET', headers, agent: secure ? https : http },
        (incoming) => {
          const chunks: Buffer[] = []
          let received = 0
          // Past the bound nothing more is read: the socket is destroyed (not returned to the pool, which
          // would have to drain the rest) and the call fails with the RerankClient's error for it.
          const tooLarge = () => {
            settle()
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
            settle()
            resolve(bufferedResponse(incoming.statusCode ?? 0, incoming.headers, Buffer.concat(chunks)))
          })
          incoming.on('error', fail)
        },
      )
      function fail(error: Error) {
        settle()
        // After tooLarge, an abort or the deadline the promise is settled: this reject is a no-op.
        reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }))
      }
      function onAbort() {
        if (timer !== undefined) clearTimeout(timer)
        outgoing.destroy()
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      if (init.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort)
          reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
          outgoing.destroy()
        }, init.timeoutMs)
      }
      outgoing.on('error', fail)
      outgoing.end(body)
    })
  }
  // postJson hands it `init.timeoutMs` instead of combining the deadline into a signal of its own.
  return Object.assign(nodeFetch, { [honoursDeadline]: true }) as unknown as typeof fetch
}

/** Node's default trust plus `ca`: Node's own `ca` option would replace the default trust instead. */
function trustWith(ca: NonNullable<NodeHttpFetchOptions['ca']>): string[] {
  const added = (Array.isArray(ca) ? ca : [ca]).flatMap((entry, index) => {
    const text = typeof entry === 'string' ? entry : Buffer.isBuffer(entry) ? entry.toString('latin1') : ''
    const pems = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
    const where = Array.isArray(ca) ? `ca[${index}]` : 'ca'
    if (pems.length === 0) {
      throw new TypeError(`nodeHttpFetch: ${where} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
    }
    for (const pem of pems) {
      try {
        new X509Certificate(pem)
      } catch (error) {
        throw new TypeError(`nodeHttpFetch: ${where} holds a certificate that does not parse`, {
          cause: error,
        })
      }
    }
    return pems
  })
  return [...defaultTrust(), ...added]
}

/** What Node trusts when no `ca` is given: its bundled roots and NODE_EXTRA_CA_CERTS. */
function defaultTrust(): readonly string[] {
  // Node 22.15+ says it itself (including --use-system-ca); Node 20 has only the bundled roots to list.
  const getCACertificates = (tls as { getCACertificates?: (type: 'default') => string[] }).getCACertificates
  if (getCACertificates) return getCACertificates('default')
  const extraFile = process.env.NODE_EXTRA_CA_CERTS
  let extra: string[] = []
  if (extraFile) {
    try {
      extra = [readFileSync(extraFile, 'latin1')]
    } catch {
      // Node warns about an unreadable NODE_EXTRA_CA_CERTS at startup and goes on without it; so does this.
    }
  }
  return [...tls.rootCertificates, ...extra]
}

interface Target {
  secure: boolean
  options: { protocol: string; hostname: string; port: string; path: string }
  /** The Host header as node:http writes it: an IPv6 address in brackets, the port unless the scheme's. */
  host: string
  /** `Basic ...` for credentials in the URL, as node:http makes it from its `auth` option. */
  authorization?: string
}

// A client posts to one URL over and over: parsing it once saves the URL parse and its conversion per call.
const targets = new Map<string, Target>()
const maxCachedTargets = 256

function targetOf(href: string): Target {
  let target = targets.get(href)
  if (target === undefined) {
    const url = new URL(href)
    const secure = url.protocol === 'https:'
    // `[::1]` -> `::1`: node:http takes the bare address.
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
    const colon = hostname.indexOf(':')
    let host = colon !== -1 && hostname.includes(':', colon + 1) ? `[${hostname}]` : hostname
    if (url.port !== '' && Number(url.port) !== (secure ? 443 : 80)) host += `:${url.port}`
    const auth = url.username
      ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
      : undefined
    target = {
      secure,
      options: { protocol: url.protocol, hostname, port: url.port, path: url.pathname + url.search },
      host,
      ...(auth === undefined ? {} : { authorization: `Basic ${Buffer.from(auth).toString('base64')}` }),
    }
    if (targets.size >= maxCachedTargets) targets.clear()
    targets.set(href, target)
  }
  return target
}

/**
 * A string body is sent as it is: node:http writes it in one piece with the headers, where bytes are a second
 * piece (and a copy of the string made first).
 */
function bodyOf(body: RequestInit['body']): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  throw new TypeError('nodeHttpFetch sends string or byte bodies only')
}

/**
 * The request's headers as a flat list (name, value, name, value...), names lowercased, the last value of a
 * repeated name kept in the first one's place. node:http writes such a list as it is; an object it copies
 * header by header into one of its own (with a check of each), and an object made with names only known at
 * run time got a new hidden class on every call: together a visible part of a load-balancer server's work.
 */
function headerList(headers: RequestInit['headers']): string[] {
  const list: string[] = []
  if (headers === undefined) return list
  const entries: Iterable<readonly [string, string]> =
    headers instanceof Headers
      ? headers
      : Array.isArray(headers)
        ? (headers as [string, string][])
        : Object.entries(headers as Record<string, string>)
  for (const [name, value] of entries) setHeader(list, name.toLowerCase(), value)
  return list
}

function setHeader(list: string[], name: string, value: string): void {
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === name) {
      list[i + 1] = value
      return
    }
  }
  list.push(name, value)
}

const hasHeader = (list: readonly string[], name: string) => {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return true
  return false
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
