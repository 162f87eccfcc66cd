import { Agent, request } from 'node:http'

/**
 * POSTs one fixed JSON body over keep-alive node:http connections, one per concurrent caller: the cheapest
 * client Node has, so the load generator takes as little of the 2 cores as it can. Anything but a 200 throws.
 */
export function httpPoster(url: string, body: string, concurrency: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const target = new URL(url)
  const payload = Buffer.from(body)
  const options = {
    agent,
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': payload.length },
  }
  const post = () =>
    new Promise<string>((resolve, reject) => {
      const outgoing = request(options, (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', reject)
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if (response.statusCode === 200) resolve(text)
          else reject(new Error(`POST ${url}: HTTP ${response.statusCode} ${text.slice(0, 200)}`))
        })
      })
      outgoing.on('error', reject)
      outgoing.end(payload)
    })
  return { post, close: () => agent.destroy() }
}
