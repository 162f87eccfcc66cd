import { X509Certificate } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SecureContextOptions } from 'node:tls'
import * as tls from 'node:tls'
import { RerankError } from '@rerank-kit/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { RerankClient } from '../rerank-client'
import { type FakeVendor, fakeScore, startFakeVendor } from '../test-support/fake-vendors'
import {
  localhostCert,
  otherHostCert,
  startTlsServer,
  type TlsServerOptions,
  testCa,
} from '../test-support/tls-fixture'
import { nodeHttpFetch } from './node-http-fetch'

// nodeHttpFetch over https, against real TLS servers on 127.0.0.1 that present the committed test fixture
// (src/test-support/tls: a test CA and certificates it signed, made by scripts/fixtures/generate-tls-fixtures.sh).

// The secure contexts nodeHttpFetch makes, to read the trust it gives its agent.
const secureContexts = vi.hoisted(() => [] as SecureContextOptions[])
vi.mock('node:tls', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:tls')>()
  return {
    ...real,
    // Node 22.15+ only: present (maybe undefined) so that the code's feature test reads it through the mock.
    getCACertificates: (real as { getCACertificates?: unknown }).getCACertificates,
    createSecureContext: (options: SecureContextOptions) => {
      secureContexts.push(options)
      return real.createSecureContext(options)
    },
  }
})

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

/** Answers every request with its method, path and body echoed as JSON. */
function echo(request: IncomingMessage, response: ServerResponse) {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(
      JSON.stringify({ method: request.method, path: request.url, body: Buffer.concat(chunks).toString() }),
    )
  })
}

async function tlsServer(options?: TlsServerOptions) {
  const server = await startTlsServer(echo, options)
  closers.push(server.close)
  return server
}

async function fakeVendorOverTls(): Promise<FakeVendor> {
  const vendor = await startFakeVendor('cohere', { apiKey: 'secret', tls: localhostCert })
  closers.push(vendor.close)
  return vendor
}

/** The rejection of a call, which must be fetch's: a TypeError "fetch failed" with the cause's code. */
async function failureOf(call: Promise<unknown>): Promise<{ message: string; code: unknown }> {
  const error = await call.then(
    () => expect.fail('the call succeeded'),
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(TypeError)
  const { message, cause } = error as TypeError
  return { message, code: (cause as { code?: unknown } | undefined)?.code }
}

const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' }

describe('the TLS fixture', () => {
  it('is a CA and a localhost certificate it signed, for localhost and 127.0.0.1, valid until 2100', () => {
    const ca = new X509Certificate(testCa)
    const leaf = new X509Certificate(localhostCert.cert)
    expect(ca.ca).toBe(true)
    expect(leaf.ca).toBe(false)
    expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true)
    expect(leaf.checkHost('localhost')).toBe('localhost')
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(new X509Certificate(otherHostCert.cert).checkIP('127.0.0.1')).toBeUndefined()
    for (const cert of [ca, leaf]) {
      expect(new Date(cert.validFrom).getTime()).toBeLessThan(Date.now())
      expect(new Date(cert.validTo).getFullYear()).toBe(2100)
    }
  })
})

describe('nodeHttpFetch over https', () => {
  it('refuses a server whose CA it does not trust, as fetch does: TypeError, cause with the TLS code', async () => {
    const leafOnly = await tlsServer()
    const withChain = await tlsServer({ sendChain: true })
    const untrusting = nodeHttpFetch()
    expect(await failureOf(untrusting(`${leafOnly.url}/rerank`, post))).toEqual({
      message: 'fetch failed',
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    })
    expect(await failureOf(untrusting(`${withChain.url}/rerank`, post))).toEqual({
      message: 'fetch failed',
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    })
    // Trusting the server's certificate is not enough: the CA that signed it is what `ca` takes.
    const leafAsCa = nodeHttpFetch({ ca: localhostCert.cert })
    expect((await failureOf(leafAsCa(`${leafOnly.url}/rerank`, post))).code).toBe(
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    )
  })

  it('with `ca` it connects, and keeps one TLS connection alive across sequential calls', async () => {
    const server = await tlsServer()
    const trusting = nodeHttpFetch({ ca: testCa })
    for (let i = 0; i < 4; i++) {
      const response = await trusting(`${server.url}/v1/rerank?call=${i}`, post)
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ method: 'POST', path: `/v1/rerank?call=${i}`, body: '{"x":1}' })
    }
    expect(server.counts.tlsSessions).toBe(1)
  })

  it("`ca` takes a Buffer or a list, and adds to Node's default trust instead of replacing it", async () => {
    const server = await tlsServer()
    for (const ca of [Buffer.from(testCa), [otherHostCert.cert, testCa], testCa + otherHostCert.cert]) {
      const response = await nodeHttpFetch({ ca })(`${server.url}/`)
      expect(response.ok).toBe(true)
    }
    // Node's own `ca` option would leave only the test CA, and public endpoints would fail: the agent's one
    // context holds every default root, then the added certificates.
    secureContexts.length = 0
    nodeHttpFetch({ ca: [testCa, otherHostCert.cert] })
    expect(secureContexts).toHaveLength(1)
    const trusted = secureContexts[0]!.ca as string[]
    expect(tls.rootCertificates.length).toBeGreaterThan(50)
    expect(trusted.slice(0, tls.rootCertificates.length)).toEqual(tls.rootCertificates)
    expect(trusted.slice(-2)).toEqual([testCa.trim(), otherHostCert.cert.trim()])
    // Without `ca`, Node's default context serves (no trust store parsed per fetch made).
    nodeHttpFetch()
    nodeHttpFetch({ rejectUnauthorized: false })
    expect(secureContexts).toHaveLength(1)
  })

  it('refuses a certificate signed by the trusted CA for another host name', async () => {
    const server = await tlsServer({ identity: otherHostCert })
    const failure = await failureOf(nodeHttpFetch({ ca: testCa })(`${server.url}/rerank`, post))
    expect(failure).toEqual({ message: 'fetch failed', code: 'ERR_TLS_CERT_ALTNAME_INVALID' })
  })

  it('rejectUnauthorized: false (unsafe) accepts an untrusted certificate for another host', async () => {
    const server = await tlsServer({ identity: otherHostCert })
    const response = await nodeHttpFetch({ rejectUnauthorized: false })(`${server.url}/ok`)
    expect(await response.json()).toMatchObject({ method: 'GET', path: '/ok' })
  })

  it('a `ca` that holds no certificate throws when the fetch is made, not on the first call', () => {
    expect(() => nodeHttpFetch({ ca: 'not a certificate' })).toThrow(
      new TypeError('nodeHttpFetch: ca holds no PEM certificate (-----BEGIN CERTIFICATE-----)'),
    )
    expect(() => nodeHttpFetch({ ca: [testCa, Buffer.from('')] })).toThrow(
      'nodeHttpFetch: ca[1] holds no PEM certificate',
    )
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'
    expect(() => nodeHttpFetch({ ca: broken })).toThrow(
      'nodeHttpFetch: ca holds a certificate that does not parse',
    )
  })
})

describe('RerankClient over https with nodeHttpFetch', () => {
  const query = 'deep learning'
  const documents = ['cooking', 'deep learning with neural networks', 'deep sea']

  it('gets a real Cohere answer from an https server it trusts through `ca`', async () => {
    const vendor = await fakeVendorOverTls()
    const client = new RerankClient({
      baseUrl: vendor.url,
      format: 'cohere',
      apiKey: 'secret',
      fetch: nodeHttpFetch({ ca: testCa }),
    })
    const response = await client.rerank({ query, documents, topN: 2 })
    expect(response.results).toEqual([
      { index: 1, score: fakeScore(query, documents[1]!) },
      { index: 2, score: fakeScore(query, documents[2]!) },
    ])
    expect(response.results[0]!.score).toBe(1)
    expect(vendor.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/rerank',
        headers: expect.objectContaining({ authorization: 'Bearer secret' }),
        body: expect.objectContaining({ query, documents, top_n: 2 }),
      }),
    ])
  })

  it('without the CA the call fails as a network_error naming the certificate problem, as over the platform fetch', async () => {
    const vendor = await fakeVendorOverTls()
    for (const fetch of [nodeHttpFetch(), globalThis.fetch]) {
      const client = new RerankClient({ baseUrl: vendor.url, format: 'cohere', apiKey: 'secret', fetch })
      const error = await client.rerank({ query, documents }).then(
        () => expect.fail('the call succeeded'),
        (thrown: unknown) => thrown as RerankError,
      )
      expect(RerankError.isInstance(error)).toBe(true)
      expect([error.code, error.message, (error.cause as Error).message]).toEqual([
        'network_error',
        `Could not reach ${vendor.url}/v1/rerank`,
        'fetch failed: unable to verify the first certificate',
      ])
    }
    expect(vendor.requests).toEqual([])
  })
})
