/**
 * For the hostile backend tests of the router and of `rerank-kit serve` in load-balancer mode: a logger that
 * keeps every line, a refused port, and (from the client's test support) a backend answering 200 MB.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '@rerank-kit/protocol'

export {
  type HugeAnswerServer,
  startHugeAnswerServer,
} from '../../../client/src/test-support/huge-answer-server'

export interface LogLine {
  level: keyof Logger
  message: string
  fields?: Record<string, unknown>
}

/** A Logger keeping every line; `text()` is all of them as JSON, to search for a secret. */
export function recordingLogger() {
  const lines: LogLine[] = []
  const record = (level: keyof Logger) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, ...(fields ? { fields } : {}) })
  }
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  }
  return { logger, lines, text: () => JSON.stringify(lines) }
}

/** A port nothing listens on (bound, then released): a connection to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
