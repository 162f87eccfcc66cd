/** `http://host/base/` + `/v1/rerank` -> `http://host/base/v1/rerank`: a path extends the base, one slash between. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`
}
