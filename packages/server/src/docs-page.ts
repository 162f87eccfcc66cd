import { resolveRef, type SchemaNode, typeText } from './docs-page-schema'

/**
 * The page behind GET /docs, rendered on the server from the OpenAPI document: it reads the same with
 * scripts off or blocked by a Content-Security-Policy. No CDN, no external asset (the icon is a data: URL so
 * the browser does not ask for /favicon.ico), so it works offline and behind any prefix. Everything from the
 * document is HTML-escaped. The one inline script only adds convenience (the curl examples take the
 * browser's own origin, https behind a proxy included); nothing depends on it.
 */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The example's values, each under whichever of its names the family's schema lists first (its own). */
const sample: [names: string[], value: unknown][] = [
  [['query'], 'capital of France'],
  [
    ['documents', 'texts', 'input'],
    ['Paris is the capital of France.', 'Bananas are yellow.'],
  ],
  [['top_n', 'top_k'], 1],
]

/** Stands for the origin in the prepared page; replaced per request (see `docsPageRenderer`). */
const originMark = '\u0000origin\u0000'

function curl(method: string, path: string, bodySchema: SchemaNode | undefined): string {
  // Absolute, so it can be pasted as is; the document's paths already carry the mount point.
  const lines = [`curl '${originMark}${path}'`]
  if (method !== 'get') lines[0] += ` -X ${method.toUpperCase()}`
  if (bodySchema) {
    const body: Record<string, unknown> = {}
    const listed = Object.keys(bodySchema.properties ?? {})
    for (const [names, value] of sample) {
      const name = listed.find((key) => names.includes(key))
      if (name !== undefined) body[name] = value
    }
    lines.push("  -H 'content-type: application/json'", `  -d '${JSON.stringify(body)}'`)
  }
  return lines.join(' \\\n')
}

function fields(schema: SchemaNode, doc: SchemaNode): string {
  const required = new Set<string>(schema.required ?? [])
  const rows = Object.entries<SchemaNode>(schema.properties ?? {}).map(
    ([name, field]) =>
      `<tr><td><code>${escapeHtml(name)}</code></td><td><code>${escapeHtml(typeText(field, schema, doc))}</code></td>` +
      `<td class="required">${required.has(name) ? 'required' : ''}</td></tr>`,
  )
  return `<table><tr><th>field</th><th>type</th><th></th></tr>${rows.join('')}</table>`
}

function route(path: string, method: string, op: SchemaNode, doc: SchemaNode, first: boolean): string {
  const requestBody = op.requestBody && resolveRef(op.requestBody, doc, doc)
  const bodySchema = requestBody
    ? resolveRef(requestBody.content?.['application/json']?.schema, doc, doc)
    : undefined
  const codes = Object.entries<SchemaNode>(op.responses ?? {}).map(
    ([code, answer]) =>
      `<li><b>${escapeHtml(code)}</b> ${escapeHtml(resolveRef(answer, doc, doc).description ?? '')}</li>`,
  )
  return [
    `<details class="route ${escapeHtml(method)}"${first ? ' open' : ''}>`,
    `<summary><span class="method">${escapeHtml(method.toUpperCase())}</span><code class="path">${escapeHtml(path)}</code>`,
    `<span class="summary">${op.summary ? ` — ${escapeHtml(op.summary)}` : ''}</span></summary><div>`,
    bodySchema ? `<h3>Request body (JSON)</h3>${fields(bodySchema, doc)}` : '',
    `<h3>Responses</h3><ul class="codes">${codes.join('')}</ul>`,
    `<h3>Example</h3><pre class="curl">${escapeHtml(curl(method, path, bodySchema))}</pre>`,
    '</div></details>',
  ].join('\n')
}

function authLine(doc: SchemaNode): string {
  const schemes = Object.values<SchemaNode>(doc.components?.securitySchemes ?? {}).map((scheme) =>
    scheme.type === 'http'
      ? `Authorization: ${scheme.scheme[0].toUpperCase()}${scheme.scheme.slice(1)} <key>`
      : `${scheme.name}: <key>`,
  )
  if (schemes.length === 0) return ''
  return `When the server has API keys, send ${schemes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' or ')}.`
}

const style = `
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 62rem; padding: 0 1rem; color: #1d2430; }
  h1 { font-size: 1.6rem; margin-bottom: .25rem; } h3 { font-size: .95rem; margin: .8rem 0 .3rem; }
  a { color: #0969da; } code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
  .route { border: 1px solid #d0d7de; border-radius: 6px; margin: .6rem 0; }
  .route > summary { cursor: pointer; padding: .55rem .8rem; } .route[open] > summary { border-bottom: 1px solid #d0d7de; }
  .route > div { padding: 0 .8rem .8rem; }
  .method { display: inline-block; width: 3.6rem; margin-right: .5rem; border-radius: 4px; text-align: center;
    font: 700 12px/1.8 ui-monospace, monospace; color: #fff; }
  .post .method { background: #1a7f37; } .get .method { background: #0969da; }
  .path { font-weight: 600; } .summary { color: #57606a; }
  table { border-collapse: collapse; } td, th { text-align: left; padding: .05rem 2rem .05rem 0; border-bottom: 1px solid #eaeef2; }
  th { font-weight: 600; color: #57606a; } .required { color: #cf222e; font-size: 12px; }
  ul.codes { display: flex; flex-wrap: wrap; gap: .3rem .5rem; margin: 0; padding: 0; list-style: none; font-size: 13px; }
  ul.codes li { border: 1px solid #eaeef2; border-radius: 4px; padding: 0 .4rem; } pre { background: #f6f8fa; padding: .7rem; margin: 0; overflow: auto; border-radius: 6px; }
  #auth code { white-space: nowrap; }
`

// The server guessed the origin from the Host header and plain http; the browser knows the real one.
const script = `
document.querySelectorAll('pre.curl').forEach((pre) => {
  pre.textContent = pre.textContent.replace(/^curl '[^/']*\\/\\/[^/']*/, "curl '" + location.origin)
})
`

/**
 * The page for one OpenAPI document, prepared once: the returned function only puts in the origin the
 * request came to (`http://host:port`, from the Host header) for the curl examples.
 */
export function docsPageRenderer(doc: SchemaNode): (origin: string) => string {
  const title = `${doc.info?.title ?? 'rerank-kit'} API`
  const routes: string[] = []
  for (const [path, methods] of Object.entries<SchemaNode>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<SchemaNode>(methods)) {
      routes.push(route(path, method, op, doc, routes.length === 0))
    }
  }
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
<h1 id="title">${escapeHtml(`${title} ${doc.info?.version ?? ''}`.trim())}</h1>
<p>Generated from the schemas the server validates requests with: <a href="./openapi.json">openapi.json</a>.
  <span id="auth">${authLine(doc)}</span></p>
<div id="routes">
${routes.join('\n')}
</div>
<script>${script}</script>
</body>
</html>
`
  const parts = page.split(originMark)
  return (origin) => parts.join(escapeHtml(origin))
}

/** `http://` plus the Host header when it is a plain host[:port]; anything else gets a stand-in. */
export function requestOrigin(host: string | undefined): string {
  return `http://${host && /^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host) ? host : 'localhost'}`
}
