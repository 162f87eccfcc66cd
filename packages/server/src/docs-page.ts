/**
 * A self-contained page that renders ./openapi.json: no CDN, no external script, so it works offline and
 * under a strict Content-Security-Policy of 'self'.
 */
export const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rerank-kit API</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d2430; }
  h1 { font-size: 1.6rem; } .route { border: 1px solid #d0d7de; border-radius: 6px; margin: .75rem 0; }
  .route summary { cursor: pointer; padding: .6rem .8rem; } .method { font-weight: 700; display: inline-block; width: 4rem; }
  .post .method { color: #1a7f37; } .get .method { color: #0969da; } code { font-size: .9em; }
  pre { background: #f6f8fa; margin: 0; padding: .8rem; overflow: auto; font-size: 12px; border-top: 1px solid #d0d7de; }
</style>
</head>
<body>
<h1 id="title">rerank-kit API</h1>
<p>Generated from the schemas the server validates with: <a href="./openapi.json">openapi.json</a>.</p>
<div id="routes">Loading…</div>
<script>
  fetch('./openapi.json').then((r) => r.json()).then((doc) => {
    document.getElementById('title').textContent = doc.info.title + ' API'
    const list = document.getElementById('routes')
    list.textContent = ''
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const item = document.createElement('details')
        item.className = 'route ' + method
        const summary = document.createElement('summary')
        const verb = document.createElement('span')
        verb.className = 'method'
        verb.textContent = method.toUpperCase()
        const code = document.createElement('code')
        code.textContent = path
        summary.append(verb, code, ' — ' + (op.summary || ''))
        const body = document.createElement('pre')
        body.textContent = JSON.stringify({ requestBody: op.requestBody, responses: op.responses }, null, 2)
        item.append(summary, body)
        list.append(item)
      }
    }
  }).catch((error) => { document.getElementById('routes').textContent = 'Could not load openapi.json: ' + error })
</script>
</body>
</html>
`
