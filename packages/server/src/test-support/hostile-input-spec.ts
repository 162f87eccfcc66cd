import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rerankRoutePaths } from '../create-rerank-handler'
import type { MountedApp, StartApp } from './adapter-spec'
import { OverlapReranker } from './overlap-reranker'
import { type RawAnswer, rawExchange } from './raw-http'
import { generatedRequestId } from './request-ids'

// Hostile input against every route of a mounted app, the same spec for node:http, the fetch handler, Express,
// Fastify and Koa (body reading and header parsing differ between them). Whatever arrives, the answer is a
// 4xx in the route family's own error format, or a closed connection: never a 5xx, a crash or a hang.

const key = 'hostile-spec-key-7f3a9c'
const maxBodyBytes = 2 ** 20
const maxDocuments = 1000
const query = 'capital of France'

/** Each POST route and how its family words an error; `undefined` when the body is not in that shape. */
const families = [
  {
    path: '/rerank',
    messageOf: (body: unknown) => {
      const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error
      return typeof error?.message === 'string' && typeof error.code === 'string' && onlyKeys(body, ['error'])
        ? error.message
        : undefined
    },
  },
  { path: '/v1/rerank', messageOf: (body: unknown) => ownString(body, 'message') },
  { path: '/v2/rerank', messageOf: (body: unknown) => ownString(body, 'message') },
  { path: '/api/v1/rerank', messageOf: (body: unknown) => ownString(body, 'detail') },
] as const

function onlyKeys(body: unknown, keys: string[]): boolean {
  return typeof body === 'object' && body !== null && Object.keys(body).join() === keys.join()
}

function ownString(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | null)?.[name]
  return onlyKeys(body, [name]) && typeof value === 'string' ? value : undefined
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The answer is `status` with a body in the route family's error format whose message matches. */
function expectFamilyError(
  family: (typeof families)[number],
  answer: { status: number | undefined; text: string },
  status: number,
  message: RegExp | string,
) {
  const where = `${family.path} -> ${answer.status} ${answer.text.slice(0, 200)} (${message})`
  expect(answer.status, where).toBe(status)
  const said = family.messageOf(parsed(answer.text))
  expect(said, where).toBeDefined()
  if (typeof message === 'string') expect(said, where).toBe(message)
  else expect(said, where).toMatch(message)
}

const fromRaw = (answer: RawAnswer) => ({ status: answer.status, text: answer.body })

/** Nothing reached a prototype: the spec runs in the server's process, so pollution would show here. */
function expectNoPollution() {
  const probes: unknown[] = [{}, [], Object.create(Object.prototype), () => {}]
  for (const probe of probes) {
    expect((probe as Record<string, unknown>).polluted).toBeUndefined()
  }
  expect(Object.keys(Object.prototype)).toEqual([])
  expect(Object.keys(Array.prototype)).toEqual([])
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

export interface HostileInputOptions {
  /** The server itself closes a connection whose body it refused (node:http, Express and Koa do). */
  closesRefusedBodies: boolean
  /**
   * The server closes the connection of a request refused from its headers, before its body (default: true;
   * the fetch handler answers but the server it runs in owns the connection).
   */
  closesRefusalsBeforeBody?: boolean
}

export function describeHostileInput(name: string, start: StartApp, options: HostileInputOptions) {
  describe(`${name}: hostile input`, () => {
    const reranker = new OverlapReranker()
    let app: MountedApp
    const url = (path: string) => `${app.url}/reranker${path}`
    const post = async (
      path: string,
      body: string | Uint8Array,
      headers: Record<string, string> = { 'content-type': 'application/json' },
    ) => {
      const response = await fetch(url(path), {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, ...headers },
        body,
      })
      return { status: response.status, text: await response.text(), headers: response.headers }
    }
    /** A raw request to a route under the mount point, with our key; the connection closes after it. */
    const raw = (
      method: string,
      path: string,
      headers: string[],
      rest: Omit<Parameters<typeof rawExchange>[1], 'head'> = {},
    ) =>
      rawExchange(app.url, {
        head: [
          `${method} /reranker${path} HTTP/1.1`,
          'host: localhost',
          `authorization: Bearer ${key}`,
          'connection: close',
          ...headers,
        ].join('\r\n'),
        ...rest,
      })

    beforeAll(async () => {
      app = await start({ reranker, apiKeys: [key], limits: { maxBodyBytes, maxDocuments } })
    })
    afterAll(() => app.close())

    it('refuses from the headers alone, before reading a byte of the body: 401, 405, 413', async () => {
      const calls = reranker.calls.length
      // Each client sends its headers, then waits for an answer before sending the 5 MiB it announced.
      const upload = Buffer.alloc(5 * 2 ** 20, 0x20)
      const refusedBeforeBody = async (head: string[], where: string): Promise<RawAnswer> => {
        const answer = await rawExchange(
          app.url,
          {
            head: [head[0]!, 'host: localhost', ...head.slice(1)].join('\r\n'),
            body: upload,
            holdBodyMs: 1500,
          },
          { closeWaitMs: 1000 },
        )
        expect(answer.bytesWritten, `${where}: ${answer.raw.slice(0, 120)}`).toBe(0)
        if (options.closesRefusalsBeforeBody ?? true) expect(answer.closedByServer, where).toBe(true)
        return answer
      }
      const announced = ['content-type: application/json', `content-length: ${upload.length}`]
      for (const family of families) {
        for (const auth of [[], ['authorization: Bearer wrong']]) {
          const answer = await refusedBeforeBody(
            [`POST /reranker${family.path} HTTP/1.1`, ...auth, ...announced],
            `${family.path} ${auth}`,
          )
          expectFamilyError(family, fromRaw(answer), 401, 'A valid API key is required')
        }
        const tooLarge = await refusedBeforeBody(
          [`POST /reranker${family.path} HTTP/1.1`, `authorization: Bearer ${key}`, ...announced],
          `${family.path} too large`,
        )
        expectFamilyError(
          family,
          fromRaw(tooLarge),
          413,
          `Request body is ${upload.length} bytes, over the limit of ${maxBodyBytes}`,
        )
        const wrongMethod = await refusedBeforeBody(
          [`PUT /reranker${family.path} HTTP/1.1`, `authorization: Bearer ${key}`, ...announced],
          `PUT ${family.path}`,
        )
        expectFamilyError(
          family,
          fromRaw(wrongMethod),
          405,
          // The mount point is in the path unless the framework strips it (Express, Fastify).
          new RegExp(`^Method PUT is not allowed on (/reranker)?${family.path}; use POST$`),
        )
        expect(wrongMethod.headers.allow).toBe('POST')
        // The native body names the code: its own, not not_found's.
        if (family.path === '/rerank')
          expect(JSON.parse(wrongMethod.body).error.code).toBe('method_not_allowed')
        const get = await raw('GET', family.path, [])
        expectFamilyError(family, fromRaw(get), 405, /use POST/)
        expect(get.headers.allow).toBe('POST')
      }
      const postToGet = await raw(
        'POST',
        '/health',
        ['content-type: application/json', 'content-length: 2'],
        {
          body: '{}',
        },
      )
      expect(postToGet.status).toBe(405)
      expect(postToGet.headers.allow).toBe('GET, HEAD')
      expect(reranker.calls).toHaveLength(calls)
      expect((await fetch(url('/health'))).status).toBe(200)
    })

    it('refuses a body that never ends (streamed, no length given) with 413 on every POST route', async () => {
      for (const family of families) {
        const chunk = new Uint8Array(64 * 1024).fill(0x20)
        const endless = new ReadableStream<Uint8Array>({ pull: (controller) => controller.enqueue(chunk) })
        const response = await fetch(url(family.path), {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: endless,
          duplex: 'half',
        } as RequestInit)
        const answer = { status: response.status, text: await response.text() }
        expectFamilyError(family, answer, 413, /over the limit of 1048576 bytes/)
      }
      expect((await fetch(url('/health'))).status).toBe(200)
    })

    it('answers a body over the limit at once, without waiting for the rest of it', async () => {
      for (const family of families) {
        // A chunk announced as 4 MiB of which one byte more than the limit is sent, then nothing: the server
        // must answer from what it has. (Exactly that much, so nothing unread is left behind: a server that
        // closes a socket with unread bytes resets it, and the client may lose the answer.)
        const answer = await raw(
          'POST',
          family.path,
          ['content-type: application/json', 'transfer-encoding: chunked'],
          { body: `400000\r\n${' '.repeat(maxBodyBytes + 1)}` },
        )
        expectFamilyError(family, fromRaw(answer), 413, /over the limit of 1048576 bytes/)
        if (options.closesRefusedBodies) expect(answer.closedByServer, family.path).toBe(true)
      }
    })

    it('answers oversized headers with 431 (or closes) on every route, and keeps serving', async () => {
      for (const path of [...rerankRoutePaths.post, ...rerankRoutePaths.get]) {
        const method = rerankRoutePaths.post.includes(path as never) ? 'POST' : 'GET'
        const answer = await raw(method, path, [`x-padding: ${'a'.repeat(64 * 1024)}`])
        expect(
          answer.status === 431 || answer.status === undefined,
          `${path}: ${answer.raw.slice(0, 80)}`,
        ).toBe(true)
        expect(answer.closedByServer, path).toBe(true)
      }
      const many = await raw(
        'GET',
        '/health',
        Array.from({ length: 3000 }, (_, i) => `x-h${i}: ${i}`),
      )
      expect(many.status === 431 || many.status === undefined, many.raw.slice(0, 80)).toBe(true)
      expect((await fetch(url('/health'))).status).toBe(200)
    })

    it('refuses deeply nested JSON without overflowing the stack, and ignores it where unused', async () => {
      for (const family of families) {
        // A document object nested 100k levels: echoing it would overflow JSON.stringify's recursion.
        const deepDocument = `{"query":"${query}","model":"overlap","return_documents":true,"documents":[{"text":"Paris","meta":${nested(100_000)}}]}`
        expectFamilyError(
          family,
          await post(family.path, deepDocument),
          400,
          /documents\.0 nests deeper than 64 levels/,
        )
        const deepQuery = `{"query":${nested(200_000)},"documents":["Paris"]}`
        expectFamilyError(family, await post(family.path, deepQuery), 400, /query: expected a string/)
        const deepList = `{"query":"${query}","documents":${nested(200_000)}}`
        expect((await post(family.path, deepList)).status, family.path).toBe(400)
        // An unknown field is dropped unread, however deep it is.
        const deepUnknown = `{"query":"${query}","model":"overlap","documents":["Paris"],"extra":${nested(200_000)}}`
        expect((await post(family.path, deepUnknown)).status, family.path).toBe(200)
      }
      // Right at the limit is still a document (63 arrays inside the document object).
      const atLimit = `{"query":"${query}","return_documents":true,"documents":[{"text":"Paris","meta":${nested(63)}}]}`
      const accepted = await post('/rerank', atLimit)
      expect(accepted.status).toBe(200)
      expect(JSON.parse(accepted.text).results[0].document.meta).toEqual(JSON.parse(nested(63)))
      expect((await fetch(url('/health'))).status).toBe(200)
    })

    it('__proto__ and constructor keys pollute nothing and never reach the parsed request', async () => {
      const calls = reranker.calls.length
      const poisoned = {
        prototype: { polluted: 'yes' },
        polluted: 'yes',
        query: 'ignored',
        documents: ['ignored'],
      }
      const body = `{"__proto__":${JSON.stringify(poisoned)},"constructor":{"prototype":{"polluted":"yes"}},"query":"${query}","model":"overlap","return_documents":true,"documents":[{"text":"Paris is in France","__proto__":{"polluted":"yes","text":"junk"},"constructor":{"prototype":{"polluted":"yes"}}},"Bananas"]}`
      for (const family of families) {
        const answer = await post(
          `${family.path}?__proto__[polluted]=yes&constructor[prototype][polluted]=yes`,
          body,
        )
        expect(answer.status, `${family.path} ${answer.text}`).toBe(200)
        const results = JSON.parse(answer.text).results as {
          index: number
          document?: Record<string, unknown>
        }[]
        const echoed = results.find((result) => result.index === 0)!.document!
        expect(echoed.text).toBe('Paris is in France')
        expect(Object.hasOwn(echoed, '__proto__')).toBe(false)
        expect(answer.text).not.toContain('junk')
        expect(answer.text).not.toContain('ignored')
        expectNoPollution()
      }
      const received = reranker.calls.slice(calls).map((call) => call.request)
      expect(received).toHaveLength(families.length)
      for (const request of received) {
        expect(Object.getPrototypeOf(request)).toBe(Object.prototype)
        expect(request.query).toBe(query)
        expect((request as unknown as Record<string, unknown>).polluted).toBeUndefined()
        const document = request.documents[0] as Record<string, unknown>
        expect(Object.getPrototypeOf(document)).toBe(Object.prototype)
        expect(Object.hasOwn(document, '__proto__')).toBe(false)
        expect(document.polluted).toBeUndefined()
        expect(document.text).toBe('Paris is in France')
      }
      // Fields that exist only on a prototype are not the caller's: no query, no documents, no rank fields.
      for (const family of families) {
        const inherited = await post(family.path, `{"__proto__":{"query":"q","documents":["a"]}}`)
        expectFamilyError(family, inherited, 400, /query/)
      }
      const rankFields = `{"query":"${query}","documents":[{"text":"Paris"}],"rank_fields":["__proto__","constructor","toString","hasOwnProperty"]}`
      expectFamilyError(families[0], await post('/rerank', rankFields), 400, /has none of the rank_fields/)
      // A header named __proto__ is a header like any other.
      const header = await raw('GET', '/health', ['__proto__: polluted', 'constructor: polluted'])
      expect(header.status).toBe(200)
      expectNoPollution()
    })

    it('refuses huge and non-finite top_n in the family format; the largest safe integer means all', async () => {
      for (const family of families) {
        for (const topN of ['1e308', '9007199254740993', '1e400', '-1e308', '2e-308']) {
          const body = `{"query":"${query}","model":"overlap","documents":["Paris","Berlin"],"top_n":${topN}}`
          expectFamilyError(family, await post(family.path, body), 400, /top_n/)
        }
        const all = `{"query":"${query}","model":"overlap","documents":["Paris","Berlin"],"top_n":9007199254740991}`
        const answer = await post(family.path, all)
        expect(answer.status, answer.text).toBe(200)
        expect(JSON.parse(answer.text).results).toHaveLength(2)
      }
    })

    it('bounds millions of tiny documents by the body limit, and thousands by the document limit', async () => {
      const millions = `{"query":"${query}","documents":[${Array(3_000_000).fill('""').join(',')}]}`
      const thousands = `{"query":"${query}","documents":[${Array(100_000).fill('""').join(',')}]}`
      for (const family of families) {
        const huge = await raw(
          'POST',
          family.path,
          ['content-type: application/json', `content-length: ${millions.length}`],
          { body: millions },
        )
        expectFamilyError(family, fromRaw(huge), 413, /over the limit of 1048576/)
        expectFamilyError(
          family,
          await post(family.path, thousands),
          413,
          `Too many documents: 100000, the limit is ${maxDocuments} per request`,
        )
      }
    })

    it('refuses bodies that are not UTF-8 in the family format', async () => {
      const invalid = [
        [0xff],
        [0xc3, 0x28], // a lead byte without its continuation
        [0xc0, 0xaf], // an overlong "/"
        [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8
        [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
        [0xe2, 0x82], // cut short
      ]
      for (const family of families) {
        for (const bytes of invalid) {
          const body = Buffer.concat([
            Buffer.from(`{"query":"capital`),
            Buffer.from(bytes),
            Buffer.from(`","documents":["Paris"]}`),
          ])
          expectFamilyError(family, await post(family.path, body), 400, 'Request body is not valid UTF-8')
        }
        // Escaped lone surrogates are valid JSON: they are read, made well-formed, and scored.
        const escaped = await post(
          family.path,
          `{"query":"\\ud800 ${query}","model":"overlap","documents":["Paris"]}`,
        )
        expect(escaped.status, escaped.text).toBe(200)
      }
    })

    it('never echoes an unsafe x-request-id: CRLF, overlong, non-ASCII, lists get a fresh id', async () => {
      const fresh = generatedRequestId
      const json = `{"query":"${query}","model":"overlap","documents":["Paris"]}`
      /** A request the route answers 200 to, with `idHeaders` (raw bytes) among its headers. */
      const send = (method: string, path: string, idHeaders: (string | Buffer)[]) => {
        const lines = [
          `${method} /reranker${path} HTTP/1.1`,
          'host: localhost',
          `authorization: Bearer ${key}`,
        ]
        lines.push('connection: close')
        if (method === 'POST') lines.push('content-type: application/json', `content-length: ${json.length}`)
        const head = Buffer.concat(
          [...lines, ...idHeaders].flatMap((line, i) => [
            Buffer.from(i === 0 ? '' : '\r\n'),
            Buffer.from(line),
          ]),
        )
        return rawExchange(app.url, { head, ...(method === 'POST' && { body: json }) })
      }
      const unsafe: (string | Buffer)[] = [
        'x'.repeat(129),
        Buffer.from('caf\xe9-latin1', 'latin1'),
        Buffer.from('ça-va-utf8', 'utf8'),
        'has space',
        '"quoted"',
        '<script>alert(1)</script>',
        'a%0d%0aset-cookie:%20evil=1',
        'tab\there',
        'one, two',
      ]
      const routes: [string, string][] = [
        ...families.map((family): [string, string] => ['POST', family.path]),
        ...rerankRoutePaths.get.map((path): [string, string] => ['GET', path]),
      ]
      for (const [method, path] of routes) {
        for (const value of unsafe) {
          const answer = await send(method, path, [
            Buffer.concat([Buffer.from('x-request-id: '), Buffer.from(value)]),
          ])
          const where = `${method} ${path} ${String(value).slice(0, 30)}: ${answer.raw.slice(0, 120)}`
          expect(answer.status, where).toBe(200)
          expect(answer.headers['x-request-id'], where).toMatch(fresh)
          expect(answer.headers['set-cookie'], where).toBeUndefined()
        }
        // Header injection proper: a CR or LF inside the value. The HTTP parser refuses the request (400, no
        // id at all) or the value never comes back; either way no injected header does.
        for (const injected of [
          'id\rset-cookie: evil=1',
          'id\nset-cookie: evil=1',
          'id\r\n set-cookie: evil=1',
        ]) {
          const answer = await send(method, path, [`x-request-id: ${injected}`])
          const where = `${method} ${path} ${JSON.stringify(injected)}: ${answer.raw.slice(0, 120)}`
          expect(answer.status === undefined || answer.status < 500, where).toBe(true)
          expect(answer.raw, where).not.toMatch(/\r\nset-cookie/i)
          const id = answer.headers['x-request-id']
          if (id !== undefined) expect(id, where).toMatch(fresh)
        }
        // Two ids are not one safe id; a safe one is echoed as is.
        const listed = await send(method, path, ['x-request-id: one', 'x-request-id: two'])
        expect(listed.headers['x-request-id'], `${method} ${path}`).toMatch(fresh)
        const safe = await send(method, path, [`x-request-id: req.${'7'.repeat(124)}`])
        expect(safe.headers['x-request-id'], `${method} ${path}`).toBe(`req.${'7'.repeat(124)}`)
      }
    })

    it('refuses every content type but JSON in UTF-8, in the family format', async () => {
      const json = `{"query":"${query}","model":"overlap","documents":["Paris"]}`
      const refused = [
        'text/plain',
        'text/plain; charset=utf-8',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
        'application/json; charset=iso-8859-1',
        'application/json; charset=utf-16',
        'application/jsonx',
        'application/json-seq',
        '*/*',
        'text/json',
      ]
      // Not media types at all: Fastify refuses them before any parser runs, in its own words.
      const malformed = ['application/json, text/plain', 'json', 'application/', ';charset=utf-8']
      for (const family of families) {
        for (const type of refused) {
          expectFamilyError(
            family,
            await post(family.path, json, { 'content-type': type }),
            400,
            'Content-Type must be application/json',
          )
        }
        for (const type of malformed) {
          expectFamilyError(
            family,
            await post(family.path, json, { 'content-type': type }),
            400,
            'Content-Type must be application/json',
          )
        }
        // No content type at all (a byte body: fetch adds none).
        expectFamilyError(
          family,
          await post(family.path, new TextEncoder().encode(json), {}),
          400,
          'Content-Type must be application/json',
        )
        for (const type of [
          'Application/JSON; Charset="UTF-8"',
          'application/json;charset=utf8',
          'application/vnd.api+json',
        ]) {
          const answer = await post(family.path, json, { 'content-type': type })
          expect(answer.status, `${family.path} ${type}: ${answer.text}`).toBe(200)
        }
      }
    })

    it('answers GET routes the same whatever junk comes with them', async () => {
      for (const path of rerankRoutePaths.get) {
        const clean = await raw('GET', path, [])
        expect(clean.status, path).toBeLessThan(500)
        const junk = await raw(
          'GET',
          `${path}?__proto__[polluted]=1&${'q='.repeat(2000)}`,
          ['content-type: text/plain', 'content-length: 11'],
          { body: '{"__proto__' },
        )
        expect(junk.status, path).toBe(clean.status)
        expect(junk.headers['content-type'], path).toBe(clean.headers['content-type'])
      }
      expectNoPollution()
    })

    it('answers a failed auth byte for byte the same whatever key is presented', async () => {
      const presented: string[][] = [
        [],
        ['authorization: Bearer wrong'],
        [`authorization: Bearer ${key.slice(0, -1)}`],
        [`authorization: Bearer ${key}x`],
        [`authorization: Bearer ${'k'.repeat(4000)}`],
        ['authorization: Bearer '],
        [`authorization: Basic ${Buffer.from(`user:${key}`).toString('base64')}`],
        [`x-api-key: ${key.toUpperCase()}`],
        ['x-api-key: '],
        [`authorization: bearer  ${key} trailing`],
        [`x-api-key: ${key}`, `x-api-key: ${key}`],
      ]
      // Headers that differ by nature between any two answers.
      const varying = new Set(['x-request-id', 'x-response-time', 'server-timing', 'date'])
      const comparable = (answer: RawAnswer) => ({
        status: answer.status,
        headers: Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !varying.has(name))),
        body: answer.body,
      })
      const routes: [string, string][] = [
        ...families.map((family): [string, string] => ['POST', family.path]),
        // Not the public ones (/health, /ready by default).
        ...rerankRoutePaths.get
          .filter((path) => path !== '/health' && path !== '/ready')
          .map((path): [string, string] => ['GET', path]),
      ]
      for (const [method, path] of routes) {
        const answers = await Promise.all(
          presented.map((headers) =>
            rawExchange(app.url, {
              head: [
                `${method} /reranker${path} HTTP/1.1`,
                'host: localhost',
                'connection: close',
                'content-type: application/json',
                `content-length: ${'{"query":"q","documents":["a"]}'.length}`,
                ...headers,
              ].join('\r\n'),
              body: '{"query":"q","documents":["a"]}',
            }),
          ),
        )
        const first = comparable(answers[0]!)
        expect(first.status, path).toBe(401)
        for (const [i, answer] of answers.entries()) {
          expect(
            comparable(answer),
            `${method} ${path} with ${presented[i]!.join(' ').slice(0, 60)}`,
          ).toEqual(first)
          expect(answer.raw).not.toContain(key)
        }
      }
    })
  })
}
