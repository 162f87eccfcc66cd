import { packageBuild } from '../../tsup.base'

// The inference worker is its own entry: worker threads load it by file, next to index.js / index.cjs.
// `shims` gives the CJS build an import.meta.url to find it.
export default packageBuild({
  entry: { index: 'src/index.ts', 'inference-worker': 'src/workers/inference-worker.ts' },
  shims: true,
})
