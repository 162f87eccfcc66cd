import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { RerankClient } from '../rerank-client'
import { type BoundedRequestInit, fetchHonoursDeadline } from '../response-limit'
import { vendorSuite } from '../test-support/vendor-suite'
import { nodeHttpFetch } from './node-http-fetch'

// Every vendor test of the client, again over nodeHttpFetch: same wire, same errors, same retries.
vendorSuite({ name: 'nodeHttpFetch', fetch: nodeHttpFetch() })

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A native-format backend answering after `delayMs`, counting the connections it accepted and saw close. */
async function backend(delayMs = 0) {
  const sockets = { opened: 0, closed: 0 }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { documents: string[] }
      const results = body.documents.map((_, index) => ({ index, relevance_score: 1 / (index + 2) }))
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] })
        response.end(JSON.stringify({ model: 'm', results }))
      }, delayMs)
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.opened++
    socket.on('close', () => sockets.closed++)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets }
}

describe('nodeHttpFetch', () => {
  it('keeps one connection alive across sequential calls, and closes it once idle', async () => {
    const { url, sockets } = await backend()
    const client = new RerankClient({
      baseUrl: url,
      format: 'native',
      fetch: nodeHttpFetch({ idleSocketMs: 100 }),
    })
    for (let i = 0; i < 5; i++) {
      const response = await client.rerank({ query: 'q', documents: ['a', 'b'] })
      expect(response.results).toEqual([
        { index: 0, score: 0.5 },
        { index: 1, score: 1 / 3 },
      ])
    }
    expect(sockets.opened).toBe(1)
    await expect.poll(() => sockets.closed, { timeout: 5_000 }).toBe(1)
  })

  it('an answer slower than the idle timeout still arrives (only idle connections are closed)', async () => {
    const { url } = await backend(300)
    const client = new RerankClient({
      baseUrl: url,
      format: 'native',
      fetch: nodeHttpFetch({ idleSocketMs: 50 }),
    })
    const response = await client.rerank({ query: 'q', documents: ['a'] })
    expect(response.results).toEqual([{ index: 0, score: 0.5 }])
  })

  it('reads like a Response: status, ok, repeated headers joined, text, json, arrayBuffer', async () => {
    const { url } = await backend()
    const fetchOverHttp = nodeHttpFetch()
    const init = {
      method: 'POST',
      headers: new Headers({ 'Content-Type': 'application/json' }),
      body: new TextEncoder().encode('{"query":"q","documents":["a"]}'),
    }
    const response = await fetchOverHttp(`${url}/rerank`, init)
    expect([response.status, response.ok, response.headers.get('X-Multi')]).toEqual([200, true, 'a, b'])
    expect(response.headers.get('absent')).toBeNull()
    expect(await response.json()).toEqual({ model: 'm', results: [{ index: 0, relevance_score: 0.5 }] })
    const again = await fetchOverHttp(new URL(`${url}/rerank`), init)
    expect(new TextDecoder().decode(await again.arrayBuffer())).toBe(await again.text())
  })

  it('sends a string body as it is, its length counted in UTF-8 bytes', async () => {
    const { url } = await backend()
    const client = new RerankClient({ baseUrl: url, format: 'native', fetch: nodeHttpFetch() })
    const response = await client.rerank({ query: 'café', documents: ['naïve', '日本語', '🙂'] })
    expect(response.results.map((result) => result.index)).toEqual([0, 1, 2])
  })

  it('enforces init.timeoutMs over the whole exchange: a TimeoutError, and the connection closed', async () => {
    const { url, sockets } = await backend(2_000)
    const fetchOverHttp = nodeHttpFetch()
    expect(fetchHonoursDeadline(fetchOverHttp)).toBe(true)
    expect(fetchHonoursDeadline(globalThis.fetch)).toBe(false)
    const started = performance.now()
    const init: BoundedRequestInit = {
      method: 'POST',
      body: '{"query":"q","documents":["a"]}',
      timeoutMs: 50,
    }
    const error = await fetchOverHttp(`${url}/rerank`, init).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(DOMException)
    expect((error as DOMException).name).toBe('TimeoutError')
    expect(performance.now() - started).toBeLessThan(1_500)
    await expect.poll(() => sockets.closed, { timeout: 5_000 }).toBe(1)
    // An answer within the deadline is not cut short.
    const { url: fast } = await backend()
    const later: BoundedRequestInit = { ...init, timeoutMs: 5_000 }
    const answered = await fetchOverHttp(`${fast}/rerank`, later)
    expect(answered.status).toBe(200)
  })

  it('sends the headers node:http would: Host, Basic auth from the URL, one value per name (the last)', async () => {
    const seen: Record<string, string | string[] | undefined>[] = []
    const server = createServer((request, response) => {
      seen.push(request.headers)
      request.resume()
      request.on('end', () => response.end('{}'))
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const fetchOverHttp = nodeHttpFetch()
    const headers: [string, string][] = [
      ['X-Twice', 'first'],
      ['content-type', 'application/json'],
      ['x-twice', 'second'],
    ]
    await fetchOverHttp(`http://us%40er:p%3Ass@127.0.0.1:${port}/r`, { method: 'POST', headers, body: 'é' })
    expect(seen[0]).toMatchObject({
      host: `127.0.0.1:${port}`,
      authorization: `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`,
      'x-twice': 'second',
      'content-type': 'application/json',
      'content-length': '2',
    })
    // The caller's own Host and Authorization win, as with node:http.
    await fetchOverHttp(`http://u:p@127.0.0.1:${port}/r`, {
      headers: { Host: 'example.test', Authorization: 'Bearer k' },
    })
    expect(seen[1]).toMatchObject({ host: 'example.test', authorization: 'Bearer k' })
  })

  it('refuses what it does not implement, clearly', async () => {
    const fetchOverHttp = nodeHttpFetch()
    await expect(fetchOverHttp(new Request('http://127.0.0.1:1/'))).rejects.toThrow(
      'nodeHttpFetch takes a URL, not a Request',
    )
    await expect(
      fetchOverHttp('http://127.0.0.1:1/', { method: 'POST', body: new Blob(['x']) }),
    ).rejects.toThrow('nodeHttpFetch sends string or byte bodies only')
  })
})
