// Child process of the router benchmark: a backend that costs next to nothing, so the figures show the
// router's overhead and not a model's. A plain node:http server answering every POST with the same valid
// native-format body; in its own process so it does not share the measuring process's event loop.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { stubAnswer } from './stub-answer'

const answer = Buffer.from(stubAnswer)
const headers = { 'content-type': 'application/json', 'content-length': String(answer.length) }

const server = createServer((request, response) => {
  // The body is read (a real backend must), not parsed.
  request.on('data', () => {})
  request.on('end', () => response.writeHead(200, headers).end(answer))
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`))
