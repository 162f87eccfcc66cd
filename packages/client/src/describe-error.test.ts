import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RerankError } from '@rerank-kit/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeError } from './describe-error'
import { RerankClient } from './rerank-client'

// Real sockets on loopback: a port nothing listens on, and a server that answers 404 in Cohere's shape.

let refused: string
let answering: Server
let answeringUrl: string

beforeAll(async () => {
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  refused = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
  await new Promise((resolve) => closed.close(resolve))
  answering = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ message: 'Model "nope" is not served here' }))
  })
  await new Promise<void>((resolve) => answering.listen(0, '127.0.0.1', resolve))
  answeringUrl = `http://127.0.0.1:${(answering.address() as AddressInfo).port}`
})
afterAll(async () => {
  answering.closeAllConnections()
  await new Promise((resolve) => answering.close(resolve))
})

const failure = (baseUrl: string) =>
  new RerankClient({ baseUrl, format: 'cohere', retry: false }).rerank({ query: 'q', documents: ['a'] }).then(
    () => expect.unreachable('the call should fail'),
    (error: unknown) => error as RerankError,
  )

describe('describeError', () => {
  it('names no HTTP status for a refused connection: no HTTP answer came', async () => {
    const error = await failure(refused)
    expect(RerankError.isInstance(error)).toBe(true)
    expect(describeError(error)).toBe(`network_error: Could not reach ${refused}/v1/rerank (ECONNREFUSED)`)
    expect(describeError(error)).not.toMatch(/HTTP/)
  })

  it('names the status a server answered with', async () => {
    const error = await failure(answeringUrl)
    expect(describeError(error)).toBe('not_found (HTTP 404): Model "nope" is not served here')
  })
})
