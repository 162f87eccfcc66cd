import { type RawAnswer, rawExchange } from './raw-http'

// Many uploads at once, each sending its headers and its whole body without waiting for an answer (as fetch,
// undici and axios do when no `Expect: 100-continue` is set), while a monitor keeps asking for /health.

export interface UploadFlood {
  answers: RawAnswer[]
  /** Each /health asked during the flood: its status and when it was answered (ms after the flood began). */
  health: { status: number | undefined; answeredAtMs: number }[]
  /** When the last upload ended, ms after the flood began. */
  durationMs: number
}

/**
 * `count` uploads of `body` (one buffer shared by all: the test's own memory must not be what is measured)
 * with `head` (request line and headers, without the blank line), and GET /health every `healthEveryMs`.
 */
export async function eagerUploadFlood(
  url: string,
  {
    count,
    head,
    body,
    healthEveryMs = 100,
  }: { count: number; head: string; body: Buffer; healthEveryMs?: number },
): Promise<UploadFlood> {
  const started = performance.now()
  const health: UploadFlood['health'] = []
  const asked: Promise<void>[] = []
  const monitor = setInterval(() => {
    asked.push(
      rawExchange(url, { head: 'GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close' }).then(
        (answer) => void health.push({ status: answer.status, answeredAtMs: performance.now() - started }),
      ),
    )
  }, healthEveryMs)
  let answers: RawAnswer[]
  let durationMs: number
  try {
    answers = await Promise.all(
      Array.from({ length: count }, () =>
        rawExchange(url, { head, body }, { closeWaitMs: 10_000, giveUpMs: 30_000 }),
      ),
    )
    durationMs = performance.now() - started
  } finally {
    clearInterval(monitor)
  }
  await Promise.all(asked)
  return { answers, health, durationMs }
}
