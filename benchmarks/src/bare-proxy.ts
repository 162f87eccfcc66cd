// Child process of the router benchmark: the floor any proxy in Node pays for a second HTTP hop. node:http in
// front of the stub backend over keep-alive connections, no parsing: the request is piped to the backend and
// the answer piped back, headers as they came. The standalone server in load-balancer mode is measured against
// it (`proxy_ratio_c32_vs_bare`): what it costs beyond forwarding bytes.
import { Agent, createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'

const backend = new URL(process.argv[2]!)
// As many connections as the LB server's client may open (nodeHttpFetch's default), kept alive.
const agent = new Agent({ keepAlive: true, maxSockets: 64 })

const server = createServer((request, response) => {
  const upstream = httpRequest(
    {
      agent,
      host: backend.hostname,
      port: backend.port,
      method: request.method,
      path: request.url,
      headers: request.headers,
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(response)
    },
  )
  upstream.on('error', () => {
    if (!response.headersSent) response.writeHead(502)
    response.end()
  })
  request.pipe(upstream)
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`))
// The benchmark stops it with SIGTERM: exit normally, so that --cpu-prof (BENCH_PROF_DIR) writes its profile.
process.on('SIGTERM', () => process.exit(0))
