type Headers = Readonly<Record<string, string | string[] | undefined>>

/**
 * A header's value, first value if repeated. Node (and so every adapter) gives lowercase names; other casings
 * are found by a scan that allocates nothing, since absent headers (x-request-id, origin) are the common case.
 */
export function headerValue(headers: Headers, name: string): string | undefined {
  let value = headers[name]
  if (value === undefined) {
    for (const key in headers) {
      // Lengths first: lowercasing every header name of every request to find one absent header cost more.
      if (key.length === name.length && key.toLowerCase() === name) {
        value = headers[key]
        break
      }
    }
  }
  return Array.isArray(value) ? value[0] : value
}

const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/

// A request id must be unique, not secret: a random prefix drawn once per process and a counter cost a tenth
// of a UUID, which was a measurable part of a stub rerank route.
const idPrefix = globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 16)
let idCount = 0

/** A fresh request id: 16 random hex digits for this process, `-`, a counter (decimal: toString(36) was slow). */
function newRequestId(): string {
  idCount++
  return `${idPrefix}-${idCount}`
}

/** The caller's x-request-id when it is safe to echo (no header injection, bounded), else a fresh one. */
export function requestIdOf(headers: Headers): string {
  const given = headerValue(headers, 'x-request-id')
  return given !== undefined && saneRequestId.test(given) ? given : newRequestId()
}
