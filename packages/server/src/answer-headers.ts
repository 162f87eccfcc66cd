import type { RerankResponse } from '@rerank-kit/protocol'

/** `elapsed.toFixed(1)` from integers, whose strings V8 keeps cached: toFixed was a visible cost per request. */
export function millisecondsText(elapsed: number): string {
  const tenths = Math.round(elapsed * 10)
  return `${Math.trunc(tenths / 10)}.${tenths % 10}`
}

/** A measured duration as header text (one decimal), or undefined when it is not a usable one. */
const durationText = (ms: number | undefined): string | undefined =>
  ms !== undefined && ms >= 0 && ms < Number.POSITIVE_INFINITY ? millisecondsText(ms) : undefined

/** Header-safe text: a deployment id from a config file may hold characters a header cannot. */
const headerText = (value: string) => (/^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value))

/**
 * The headers of a rerank answer that tell how it was made, from what the reranker reported:
 * - TEI's compute headers (RerankResponse.timings, a LocalReranker's): `x-tokenization-time`, `x-queue-time`,
 *   `x-inference-time` in milliseconds with one decimal (TEI sends whole milliseconds; a tiny model's parts are
 *   under one), and the same parts as `server-timing` entries, to which the handler appends `total`;
 * - `x-compute-tokens` from usage, whoever counted the tokens (a local model, or the backend a router called);
 * - a router's `x-rerank-deployment` (the answering deployment's id, never its URL) and `x-rerank-attempts`.
 * Nothing is allocated for what the answer does not carry.
 */
export function setAnswerHeaders(headers: Record<string, string>, response: RerankResponse): void {
  const tokens = response.usage?.totalTokens
  if (tokens !== undefined && Number.isSafeInteger(tokens) && tokens >= 0)
    headers['x-compute-tokens'] = `${tokens}`
  const routing = response.routing
  if (routing !== undefined) {
    headers['x-rerank-deployment'] = headerText(routing.deployment)
    headers['x-rerank-attempts'] = `${routing.attempts}`
  }
  const timings = response.timings
  if (timings === undefined) return
  let serverTiming = ''
  const tokenization = durationText(timings.tokenizationMs)
  if (tokenization !== undefined) {
    headers['x-tokenization-time'] = tokenization
    serverTiming = `tokenization;dur=${tokenization}`
  }
  const queue = durationText(timings.queueMs)
  if (queue !== undefined) {
    headers['x-queue-time'] = queue
    serverTiming += `${serverTiming && ', '}queue;dur=${queue}`
  }
  const inference = durationText(timings.inferenceMs)
  if (inference !== undefined) {
    headers['x-inference-time'] = inference
    serverTiming += `${serverTiming && ', '}inference;dur=${inference}`
  }
  if (serverTiming !== '') headers['server-timing'] = serverTiming
}

/** The attempts a failed router call made (its error lists them), as `x-rerank-attempts`. */
export function setFailedAttemptsHeader(headers: Record<string, string>, publicDetails: unknown): void {
  const attempts = (publicDetails as { attempts?: unknown } | undefined)?.attempts
  if (Array.isArray(attempts) && attempts.length > 0) headers['x-rerank-attempts'] = `${attempts.length}`
}
