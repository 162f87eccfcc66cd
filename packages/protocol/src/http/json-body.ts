import { RerankError } from '../errors/rerank-error'

/** `application/json`, `application/json; charset=utf-8`, and `+json` types such as `application/vnd.api+json`. */
export function isJsonContentType(contentType: string | null | undefined): boolean {
  if (!contentType) return false
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase()
  return mediaType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(mediaType)
}

export interface JsonBodyLimits {
  /** Largest body accepted, in bytes; larger ones fail with `payload_too_large` before any decoding. */
  maxBytes?: number
}

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
  if (text.trim() === '')
    throw new RerankError('invalid_request', 'Request body is empty: send a JSON object')
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new RerankError('invalid_request', `Request body is not valid JSON: ${(cause as Error).message}`, {
      cause,
    })
  }
}
