// pnpm --filter @rerank-kit/client size — what the client costs a browser app: minified and gzipped bytes of
// each entry bundled for the browser (zod and ky included), and any import a browser could not satisfy.
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { bundleForBrowser } from '../src/test-support/browser-bundle'

for (const entry of ['index.ts', 'ai-sdk/index.ts']) {
  const bundle = await bundleForBrowser(join(import.meta.dirname, '../src', entry))
  const gzipped = gzipSync(bundle.code).byteLength
  console.log(
    `${entry.padEnd(16)} ${(bundle.bytes / 1024).toFixed(1)} KiB minified, ${(gzipped / 1024).toFixed(1)} KiB gzipped; ` +
      `left outside: ${bundle.externalImports.join(', ') || 'nothing'}`,
  )
}
