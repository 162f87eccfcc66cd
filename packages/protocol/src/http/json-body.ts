import { RerankError } from '../errors/rerank-error'

const charsetParameter = /;\s*charset\s*=\s*"?([^";\s]*)"?/i

/**
 * `application/json`, `application/json; charset=utf-8`, and `+json` types such as `application/vnd.api+json`.
 * Bodies are always decoded as UTF-8 (RFC 8259), so a body declared in another charset (`charset=latin1`,
 * `utf-16`) is refused rather than decoded as something it says it is not.
 */
export function isJsonContentType(contentType: string | null | undefined): boolean {
  if (!contentType) return false
  // What nearly every client sends, answered without splitting and regular expressions (a hot path).
  if (contentType === 'application/json' || contentType === 'application/json; charset=utf-8') return true
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase()
  if (mediaType !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(mediaType)) return false
  const charset = charsetParameter.exec(contentType)?.[1]?.toLowerCase()
  return charset === undefined || charset === 'utf-8' || charset === 'utf8'
}

export interface JsonBodyLimits {
  /** Largest body accepted, in bytes; larger ones fail with `payload_too_large` before any decoding. */
  maxBytes?: number
}

// Tests for a non-space character instead of trimming: trim() would copy the whole body just to look at it.
const nonSpace = /\S/
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/**
 * Decodes a request body: size limit, strict UTF-8 (invalid bytes are an error, not silent U+FFFD), then
 * JSON. Every failure is a 4xx RerankError naming the problem.
 */
export function parseJsonBody(body: Uint8Array | string, limits: JsonBodyLimits = {}): unknown {
  const size = typeof body === 'string' ? new TextEncoder().encode(body).byteLength : body.byteLength
  if (limits.maxBytes !== undefined && size > limits.maxBytes) {
    throw new RerankError(
      'payload_too_large',
      `Request body is ${size} bytes, over the limit of ${limits.maxBytes}`,
    )
  }
  let text: string
  if (typeof body === 'string') {
    text = body
  } else {
    try {
      text = utf8.decode(body)
    } catch (cause) {
      throw new RerankError('invalid_request', 'Request body is not valid UTF-8', { cause })
    }
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    // Only a body that failed to parse is looked at for emptiness: the scan is not paid by valid ones.
    if (!nonSpace.test(text)) {
      throw new RerankError('invalid_request', 'Request body is empty: send a JSON object')
    }
    throw new RerankError('invalid_request', `Request body is not valid JSON: ${(cause as Error).message}`, {
      cause,
    })
  }
}
