import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HugeAnswerServer {
  url: string
  /** Bytes of the answer written so far, over every request. */
  readonly sent: number
  /** Requests received. */
  readonly requests: number
  close(): Promise<void>
}

/**
 * Answers every request with a 200 JSON body of `bytes` bytes (spaces inside a results list), streamed from
 * one reused 64 KiB buffer with backpressure: the fake itself allocates nothing like `bytes`, so the memory
 * the reader spends is what a test measures. Stops writing when the reader hangs up. With `declareLength` the
 * answer states its Content-Length, else it is chunked.
 */
export async function startHugeAnswerServer(
  bytes: number,
  options: { declareLength?: boolean } = {},
): Promise<HugeAnswerServer> {
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  const head = Buffer.from('{"results":[')
  const tail = Buffer.from(']}')
  let sent = 0
  let requests = 0
  const server: Server = createServer((req, res) => {
    requests++
    req.resume()
    req.on('end', async () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(options.declareLength ? { 'content-length': String(bytes) } : {}),
      })
      let closed = false
      res.on('close', () => {
        closed = true
      })
      const write = async (buffer: Buffer) => {
        sent += buffer.length
        if (!res.write(buffer)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done)
              res.off('close', done)
              resolve()
            }
            res.on('drain', done)
            res.on('close', done)
          })
        }
      }
      await write(head)
      let left = bytes - head.length - tail.length
      while (left > 0 && !closed) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left)
        left -= part.length
        await write(part)
      }
      if (!closed) res.end(tail)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get sent() {
      return sent
    },
    get requests() {
      return requests
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
