import { createServer } from 'node:net'

/**
 * Binds `host:port` for a moment and lets go, so a taken port (EADDRINUSE) or a forbidden one (EACCES) fails
 * before anything slow starts: the HTTP server needs its handler, and the handler the backend, whose model
 * starts loading as soon as it is built. Port 0 (any free port) cannot be taken. Another process could take
 * the port in between: the real listen is still checked.
 */
export async function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return
  const probe = createServer()
  try {
    await new Promise<void>((done, fail) => {
      probe.once('error', fail)
      probe.listen({ host, port, exclusive: true }, done)
    })
  } catch (error) {
    throw new Error(`cannot listen on ${host}:${port}: ${(error as Error).message}`)
  }
  await new Promise<void>((done) => probe.close(() => done()))
}
