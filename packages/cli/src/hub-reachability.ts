import { systemErrorCode } from '@rerank-kit/protocol'

// `check` asks the hub once, the way serve's download would start, so an offline machine hears "unreachable"
// from check rather than from serve after it has started.

/** How long the HEAD may take: a hub that needs longer would make serve's download fail or crawl anyway. */
export const hubProbeTimeoutMs = 5_000

export type HubProbe =
  | { reachable: true; status: number; ms: number }
  | {
      reachable: false
      reason: string /** The hub answered: a reason to stop, not a network trouble. */
      status?: number
    }

/** A HEAD of one file's URL (redirects followed, as a download would), bounded by `timeoutMs`. */
export async function probeHubFile(
  url: string,
  token: string | undefined,
  timeoutMs = hubProbeTimeoutMs,
): Promise<HubProbe> {
  const started = performance.now()
  try {
    const response = await fetch(url, {
      method: 'HEAD',
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
      ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
    })
    const ms = Math.round(performance.now() - started)
    if (response.ok) return { reachable: true, status: response.status, ms }
    return { reachable: false, status: response.status, reason: statusReason(response.status, token) }
  } catch (error) {
    const name = (error as Error).name
    if (name === 'TimeoutError' || name === 'AbortError')
      return { reachable: false, reason: `no answer within ${timeoutMs / 1000} s` }
    // fetch says only "fetch failed": the system code (ECONNREFUSED, ENOTFOUND, ...) is in its cause.
    return { reachable: false, reason: systemErrorCode(error) ?? (error as Error).message }
  }
}

function statusReason(status: number, token: string | undefined): string {
  if (status === 401 || status === 403) {
    return `answered ${status}: the model is private or gated${token === undefined ? ' (set HF_TOKEN)' : ' and HF_TOKEN is not allowed to read it'}`
  }
  if (status === 404) return 'answered 404: no such model, or it has no config.json'
  return `answered ${status}`
}

/** The URL as output may show it: no user info (a mirror's `https://user:password@host`), no query. */
export function shownUrl(url: string): string {
  const parsed = new URL(url)
  parsed.username = ''
  parsed.password = ''
  parsed.search = ''
  return parsed.href
}
