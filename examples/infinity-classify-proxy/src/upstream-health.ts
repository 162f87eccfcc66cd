import { systemErrorCode } from '@rerank-kit/protocol'
import { describeUpstreamFailure } from './upstream-failure'

/**
 * Asks Infinity's health route every `intervalMs` (GET, 2xx is healthy, at most `timeoutMs` per try) and
 * keeps the answer for /ready, so a load balancer in front of this proxy stops sending to it while Infinity
 * is down instead of getting 502s. Unknown until the first answer: not healthy. Logs each change.
 */
export function watchUpstreamHealth(
  url: string,
  where: string,
  log: (line: string) => void,
  intervalMs = 5_000,
  timeoutMs = 2_000,
) {
  let healthy = false
  let lastProblem: string | undefined
  const check = async () => {
    let problem: string | undefined
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
      await response.body?.cancel().catch(() => {})
      if (!response.ok) problem = `health check answered HTTP ${response.status}`
    } catch (error) {
      const name = (error as Error).name
      problem =
        name === 'TimeoutError'
          ? `health check timed out after ${timeoutMs} ms`
          : `health check failed: ${systemErrorCode(error) ?? describeUpstreamFailure(error)}`
    }
    if (problem === undefined && !healthy) log(`Infinity at ${where} is healthy: /ready answers 200`)
    if (problem !== undefined && problem !== lastProblem)
      log(`Infinity at ${where}: ${problem}; /ready answers 503`)
    healthy = problem === undefined
    lastProblem = problem
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const loop = async () => {
    await check()
    timer = setTimeout(loop, intervalMs)
    timer.unref()
  }
  void loop()
  return {
    get healthy() {
      return healthy
    },
    stop: () => clearTimeout(timer),
  }
}
