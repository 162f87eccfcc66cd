// Package check: the built package (not src) loads its worker and scores, from ESM and from CJS.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const model = fileURLToPath(new URL('../../../fixtures/models/tiny-bert-reranker', import.meta.url))
const request = { query: 'what causes the seasons', documents: ['The tilt of the earth axis.', 'Bananas.'] }

const esm = await import('../dist/index.js')
const cjs = createRequire(import.meta.url)('../dist/index.cjs')
for (const [kind, { LocalReranker }] of [
  ['esm', esm],
  ['cjs', cjs],
]) {
  const reranker = await LocalReranker.create({ models: [{ model, workers: 1 }] })
  const response = await reranker.rerank(request)
  await reranker.close()
  const ok = response.results.length === 2 && response.results.every((r) => r.score > 0 && r.score < 1)
  if (!ok) throw new Error(`${kind} build returned ${JSON.stringify(response)}`)
  console.log(`dist ${kind}: ok (${response.results.map((r) => r.score.toFixed(6)).join(', ')})`)
}
