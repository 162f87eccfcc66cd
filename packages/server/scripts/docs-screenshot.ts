import { mkdirSync } from 'node:fs'
import { launchChromium, serveDocs } from '../src/test-support/docs-browser'

// Renders GET /docs (mounted under a prefix, as most apps do) and saves the README's screenshot:
// pnpm --filter @rerank-kit/server docs:screenshot
const output = new URL('../../../docs/images/docs-page.png', import.meta.url)
mkdirSync(new URL('.', output), { recursive: true })

const app = await serveDocs({ prefix: '/reranker' })
const browser = await launchChromium()
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  await page.goto(`${app.url}/reranker/docs`)
  await page.locator('.route').first().waitFor()
  // The whole page: the first route open (body fields, codes, curl), every other route one line below it.
  await page.screenshot({ path: output.pathname, fullPage: true })
  console.log(`saved ${output.pathname}`)
} finally {
  await browser.close()
  await app.close()
}
