type Headers = Readonly<Record<string, string | string[] | undefined>>

/** A header's value whatever the casing the framework kept, first value if repeated. */
export function headerValue(headers: Headers, name: string): string | undefined {
  const direct = headers[name] ?? headers[name.toLowerCase()]
  const value =
    direct ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1]
  return Array.isArray(value) ? value[0] : value
}

const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/

/** The caller's x-request-id when it is safe to echo (no header injection, bounded), else a fresh one. */
export function requestIdOf(headers: Headers): string {
  const given = headerValue(headers, 'x-request-id')
  return given !== undefined && saneRequestId.test(given) ? given : globalThis.crypto.randomUUID()
}
