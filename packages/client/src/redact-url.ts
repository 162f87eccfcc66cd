/**
 * A URL as logs and error messages may show it: scheme, host, port and path. User info and the query string
 * go: both are where keys end up (`https://user:key@host`, `?api_key=...`).
 */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return '[unparseable URL]'
  const parsed = new URL(url)
  const userInfo = parsed.username || parsed.password ? '***@' : ''
  const query = parsed.search ? '?***' : ''
  return `${parsed.protocol}//${userInfo}${parsed.host}${parsed.pathname}${query}`
}
