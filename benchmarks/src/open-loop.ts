import { Agent, request as httpRequest } from 'node:http'
import type { Socket } from 'node:net'

/** Everything one open-loop run saw, per answer and in total. */
export interface OpenLoopResult {
  sent: number
  /** Answers by HTTP status. */
  statuses: Record<number, number>
  /** 429 and 503 answers without a Retry-After header. */
  refusalsWithoutRetryAfter: number
  /** No complete answer within `timeoutMs`. */
  timeouts: number
  /** Socket errors (refused, reset) by code. */
  errors: Record<string, number>
  /** Latency of every answer (ms), by status class: accepted (2xx), refused (429/503), other. */
  latencyMs: { ok: number[]; refused: number[]; other: number[] }
  elapsedMs: number
}

export interface OpenLoopOptions {
  url: string
  body: string
  /** Requests started per second, whatever the server does (open loop). */
  rate: number
  seconds: number
  timeoutMs: number
  /** Called once a second with the figures so far (for progress lines). */
  onSecond?: (second: number, sofar: OpenLoopResult) => void
}

/**
 * Drops a socket idle for 4 s, before the server's keep-alive timeout (5 s) could close it under a new request
 * (ECONNRESET). Not the Agent's `timeout` option: that one also bounds connecting, and under overload a connect
 * waiting in a full accept queue is part of the answer's latency, not a separate failure.
 */
class IdleTimeoutAgent extends Agent {
  override keepSocketAlive(socket: Socket): boolean {
    // Typed as void; Node's returns whether the socket is kept.
    const kept = super.keepSocketAlive(socket) as unknown as boolean
    // The Agent destroys a free socket on its timeout; a request that reuses it sets its own.
    socket.setTimeout(4000)
    return kept
  }
}

/**
 * Starts `rate` requests per second for `seconds`, each on its own keep-alive socket when none is free, and
 * waits for every answer. Not autocannon: autocannon is closed-loop per connection (a connection sends its next
 * request only after an answer, and `overallRate` is split into whole requests per second per connection, 0
 * meaning unlimited), so it cannot offer a fixed rate while hundreds of accepted requests wait in the queue.
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { url, body, rate, seconds, timeoutMs } = options
  const agent = new IdleTimeoutAgent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })
  const result: OpenLoopResult = {
    sent: 0,
    statuses: {},
    refusalsWithoutRetryAfter: 0,
    timeouts: 0,
    errors: {},
    latencyMs: { ok: [], refused: [], other: [] },
    elapsedMs: 0,
  }
  const target = new URL(url)
  const payload = Buffer.from(body)
  const pending = new Set<Promise<void>>()

  const send = () => {
    result.sent++
    const started = performance.now()
    const done = new Promise<void>((resolve) => {
      let settled = false
      const settle = (record: () => void) => {
        if (settled) return
        settled = true
        record()
        resolve()
      }
      const req = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          res.resume()
          res.once('end', () =>
            settle(() => {
              const status = res.statusCode ?? 0
              const latency = performance.now() - started
              result.statuses[status] = (result.statuses[status] ?? 0) + 1
              if (status >= 200 && status < 300) result.latencyMs.ok.push(latency)
              else if (status === 429 || status === 503) {
                result.latencyMs.refused.push(latency)
                if (res.headers['retry-after'] === undefined) result.refusalsWithoutRetryAfter++
              } else result.latencyMs.other.push(latency)
            }),
          )
          res.once('error', (error) => settle(() => countError(error)))
        },
      )
      const countError = (error: Error) => {
        const code = (error as NodeJS.ErrnoException).code ?? error.message
        result.errors[code] = (result.errors[code] ?? 0) + 1
      }
      req.setTimeout(timeoutMs, () => {
        if (settled) return
        settle(() => result.timeouts++)
        req.destroy()
      })
      req.once('error', (error) => settle(() => countError(error)))
      req.end(payload)
    })
    pending.add(done)
    void done.then(() => pending.delete(done))
  }

  const started = performance.now()
  let second = 0
  // Every 5 ms, start the requests that are due by now: a steady rate, not bursts once a second.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started
      const due = Math.min(rate * seconds, Math.floor((elapsed / 1000) * rate))
      while (result.sent < due) send()
      if (Math.floor(elapsed / 1000) > second) {
        second = Math.floor(elapsed / 1000)
        options.onSecond?.(second, result)
      }
      if (result.sent >= rate * seconds) {
        clearInterval(timer)
        resolve()
      }
    }, 5)
  })
  await Promise.all(pending)
  result.elapsedMs = performance.now() - started
  agent.destroy()
  return result
}
