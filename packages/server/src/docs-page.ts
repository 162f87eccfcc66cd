/**
 * The page behind GET /docs: it fetches ./openapi.json and renders every route with a small inline script.
 * No CDN, no external asset (the icon is a data: URL so the browser does not ask for /favicon.ico), so it
 * works offline and behind any prefix. A host CSP without 'unsafe-inline' blocks the script: the page then
 * says so instead of rendering. Rendered with textContent only, so nothing from the document becomes markup.
 *
 * String.raw keeps the script's backslashes as written; the script itself must not contain a backtick or
 * a dollar sign followed by a brace.
 */
export const docsPage = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>rerank-kit API</title>
<style>
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
  .error { color: #cf222e; } #auth code { white-space: nowrap; }
</style>
</head>
<body>
<h1 id="title">rerank-kit API</h1>
<p>Generated from the schemas the server validates requests with: <a href="./openapi.json">openapi.json</a>.
  <span id="auth"></span></p>
<div id="routes"><p id="status">Loading openapi.json… (if this stays, a Content-Security-Policy may block inline scripts)</p></div>
<script>
(() => {
  const el = (tag, props, ...children) => {
    const node = Object.assign(document.createElement(tag), props)
    node.append(...children)
    return node
  }
  const routes = document.getElementById('routes')
  let doc = {}

  // A local ref: zod's "#/$defs/X" is relative to the body schema, "#/components/..." to the document.
  const resolve = (schema, root) => {
    for (let hops = 0; schema && typeof schema.$ref === 'string' && hops < 16; hops++) {
      const keys = schema.$ref.replace('#', '').split('/').filter(Boolean)
        .map((key) => decodeURIComponent(key).split('~1').join('/').split('~0').join('~'))
      schema = [root, doc].map((base) => keys.reduce((node, key) => node && node[key], base)).find(Boolean)
    }
    return schema || {}
  }

  // A one-line type: "integer ≥ 1", "(string | object {text})[]", enums as their values; null is left out
  // (an optional field may be null).
  const typeOf = (raw, root, depth = 0) => {
    const schema = resolve(raw, root)
    if (depth > 4) return '…'
    const variants = schema.anyOf || schema.oneOf
    if (variants) {
      const names = [...new Set(variants.map((s) => typeOf(s, root, depth + 1)).filter((t) => t !== 'null'))]
      return names.join(' | ') || 'null'
    }
    if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ')
    if (schema.const !== undefined) return JSON.stringify(schema.const)
    const types = [].concat(schema.type || 'any').filter((t, _, all) => t !== 'null' || all.length === 1)
    return types.map((type) => {
      if (type === 'array') {
        const item = typeOf(schema.items || {}, root, depth + 1)
        return (item.includes(' ') ? '(' + item + ')' : item) + '[]'
      }
      if (type === 'object' && schema.properties) return 'object {' + Object.keys(schema.properties).join(', ') + '}'
      let text = type
      if (schema.minimum !== undefined) text += ' ≥ ' + schema.minimum
      if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER) text += ' ≤ ' + schema.maximum
      return text
    }).join(' | ')
  }

  const sample = { query: 'capital of France', documents: ['Paris is the capital of France.', 'Bananas are yellow.'], top_n: 1 }

  const curl = (method, path, bodySchema) => {
    // Absolute, so it can be pasted as is; the document's paths already carry the prefix.
    const lines = ["curl '" + new URL(path, location.href).href + "'"]
    if (method !== 'get') lines[0] += ' -X ' + method.toUpperCase()
    if (bodySchema) {
      const body = {}
      for (const key of Object.keys(sample)) if (bodySchema.properties && bodySchema.properties[key]) body[key] = sample[key]
      lines.push("  -H 'content-type: application/json'", "  -d '" + JSON.stringify(body) + "'")
    }
    return lines.join(' \\\n')
  }

  const fields = (schema) => {
    const required = new Set(schema.required || [])
    const rows = Object.entries(schema.properties || {}).map(([name, field]) =>
      el('tr', {}, el('td', {}, el('code', { textContent: name })), el('td', {}, el('code', { textContent: typeOf(field, schema) })),
        el('td', { className: 'required', textContent: required.has(name) ? 'required' : '' })))
    return el('table', {}, el('tr', {}, ...['field', 'type', ''].map((name) => el('th', { textContent: name }))), ...rows)
  }

  const route = (path, method, op, first) => {
    const requestBody = op.requestBody && resolve(op.requestBody)
    const bodySchema = requestBody && resolve(((requestBody.content || {})['application/json'] || {}).schema)
    const details = el('details', { className: 'route ' + method, open: first },
      el('summary', {}, el('span', { className: 'method', textContent: method.toUpperCase() }),
        el('code', { className: 'path', textContent: path }), el('span', { className: 'summary', textContent: op.summary ? ' — ' + op.summary : '' })))
    const body = el('div')
    if (bodySchema) body.append(el('h3', { textContent: 'Request body (JSON)' }), fields(bodySchema))
    body.append(el('h3', { textContent: 'Responses' }), el('ul', { className: 'codes' },
      ...Object.entries(op.responses || {}).map(([code, answer]) => el('li', {}, el('b', { textContent: code }), ' ' + (resolve(answer).description || '')))))
    body.append(el('h3', { textContent: 'Example' }), el('pre', { className: 'curl', textContent: curl(method, path, bodySchema) }))
    details.append(body)
    return details
  }

  fetch('./openapi.json').then(async (response) => {
    if (!response.ok) {
      throw new Error('openapi.json answered ' + response.status +
        (response.status === 401 ? ': API keys are on and it is not in publicRoutes (list it next to /docs)' : ''))
    }
    doc = await response.json()
    document.title = doc.info.title + ' API'
    document.getElementById('title').textContent = doc.info.title + ' API ' + doc.info.version
    const schemes = Object.values((doc.components || {}).securitySchemes || {}).map((scheme) =>
      scheme.type === 'http' ? 'Authorization: ' + scheme.scheme[0].toUpperCase() + scheme.scheme.slice(1) + ' <key>' : scheme.name + ': <key>')
    if (schemes.length) {
      const names = schemes.flatMap((scheme, i) => [i ? ' or ' : '', el('code', { textContent: scheme })])
      document.getElementById('auth').append('When the server has API keys, send ', ...names, '.')
    }
    const list = []
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) list.push(route(path, method, op, list.length === 0))
    }
    routes.replaceChildren(...list)
  }).catch((error) => {
    routes.replaceChildren(el('p', { className: 'error', textContent: 'Could not load openapi.json: ' + error.message }))
  })
})()
</script>
</body>
</html>
`
