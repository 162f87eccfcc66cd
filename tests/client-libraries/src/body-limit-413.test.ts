import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { request as undiciRequest } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { apiKey, useServedModel } from './test-support/served-model'

// A body over the limit (10 MiB) is refused with 413 while the client is still sending it. The server reads
// and drops the rest for a bounded while before it closes (a lingering close, as nginx does): without it a
// Node client sees ECONNRESET instead of the answer. Every common client must read the 413 and its message.

const limit = 10 * 2 ** 20
// Four times the limit: were the server to close as soon as it answered, undici's request() and node:http would
// fail here with ECONNRESET/EPIPE (checked by disabling the lingering close); at 12 MiB only node:http did.
const overLimit = Buffer.from(JSON.stringify({ query: 'q', documents: ['x'.repeat(40 * 2 ** 20)] }))
const folder = mkdtempSync(join(tmpdir(), 'body-413-'))
const bodyFile = join(folder, 'body.json')
writeFileSync(bodyFile, overLimit)

const served = useServedModel()
afterAll(() => rmSync(folder, { recursive: true, force: true }))

const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }
const declaredMessage = `Request body is ${overLimit.length} bytes, over the limit of ${limit}`
const nativeError = (message: string) => ({ error: { code: 'payload_too_large', message } })

/** The same body in 64 KiB chunks, as a stream: sent chunked, with no Content-Length to refuse it early. */
const chunked = () =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < overLimit.length; at += 64 * 1024)
        controller.enqueue(overLimit.subarray(at, at + 64 * 1024))
      controller.close()
    },
  })

describe('a body over the limit is a 413 every Node client reads', () => {
  it("Node's fetch: declared length (refused before reading) and chunked (refused once past the limit)", async () => {
    const declared = await fetch(`${served.url}/rerank`, { method: 'POST', headers, body: overLimit })
    expect(declared.status).toBe(413)
    expect(await declared.json()).toEqual(nativeError(declaredMessage))
    const streamed = await fetch(`${served.url}/rerank`, {
      method: 'POST',
      headers,
      body: chunked(),
      duplex: 'half',
    } as RequestInit)
    expect(streamed.status).toBe(413)
    expect(await streamed.json()).toEqual(nativeError(`Request body is over the limit of ${limit} bytes`))
  })

  it('undici request(), in the Cohere route family format', async () => {
    const answer = await undiciRequest(`${served.url}/v1/rerank`, {
      method: 'POST',
      headers,
      body: overLimit,
    })
    expect(answer.statusCode).toBe(413)
    expect(await answer.body.json()).toEqual({ message: declaredMessage })
  })

  it('node:http, writing the body in chunks as it goes', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = httpRequest(`${served.url}/rerank`, {
        method: 'POST',
        headers: { ...headers, 'content-length': overLimit.length },
      })
      outgoing.on('response', (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () => resolve({ status: response.statusCode!, body }))
      })
      outgoing.on('error', reject)
      for (let at = 0; at < overLimit.length; at += 256 * 1024)
        outgoing.write(overLimit.subarray(at, at + 256 * 1024))
      outgoing.end()
    })
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body)).toEqual(nativeError(declaredMessage))
  })

  it('curl, in the Jina route family format', async () => {
    const { stdout } = await promisify(execFile)('curl', [
      '--silent',
      '--show-error',
      '--write-out',
      '\n%{http_code}',
      '--header',
      'content-type: application/json',
      '--header',
      `authorization: Bearer ${apiKey}`,
      '--data-binary',
      `@${bodyFile}`,
      `${served.url}/api/v1/rerank`,
    ])
    const [body, status] = stdout.split('\n')
    expect(status).toBe('413')
    expect(JSON.parse(body!)).toEqual({ detail: declaredMessage })
  })
})
