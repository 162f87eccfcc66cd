import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { rerankRoutePaths } from './create-rerank-handler'
import { launchChromium, rankedItems, runShownExample, serveDocs } from './test-support/docs-browser'

// GET /docs in a real headless browser: the page is rendered on the server, so it must read the same with
// scripts off, and its examples must work as shown under a mount prefix.

const routes = (prefix: string) => [
  ...[
    '/rerank',
    '/v1/rerank',
    '/v2/rerank',
    '/api/v1/rerank',
    '/voyage/v1/rerank',
    '/v1/reranking',
    '/tei/rerank',
  ].map((path) => `POST ${prefix}${path}`),
  ...[
    '/health',
    '/ready',
    '/v1/models',
    '/stats',
    '/lb/stats',
    '/metrics',
    '/openapi.json',
    '/docs',
    '/tei/info',
  ].map((path) => `GET ${prefix}${path}`),
]

// Launched by the first test that needs it, not in beforeAll: without chromium every test fails with the
// .ci/run message, where a failing hook would report them as skipped.
let browser: Promise<Browser> | undefined
afterAll(() =>
  browser?.then(
    (launched) => launched.close(),
    () => {},
  ),
)

/** Opens a page recording every request URL and every console error or uncaught exception. */
async function open(url: string, options: BrowserContextOptions = {}) {
  browser ??= launchChromium()
  const context = await (await browser).newContext(options)
  const page = await context.newPage()
  const requests: string[] = []
  const errors: string[] = []
  page.on('request', (request) => requests.push(request.url()))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  page.on('pageerror', (error) => errors.push(String(error)))
  await page.goto(url)
  return { page, requests, errors, close: () => context.close() }
}

/** "METHOD /path" of every rendered route. */
async function renderedRoutes(page: Page): Promise<string[]> {
  const methods = await page.locator('.route .method').allInnerTexts()
  const paths = await page.locator('.route .path').allInnerTexts()
  return methods.map((method, i) => `${method} ${paths[i]}`)
}

describe('GET /docs in headless chromium', () => {
  for (const [prefix, javaScriptEnabled] of [
    ['', true],
    ['/reranker', true],
    ['/reranker', false],
  ] as const) {
    it(`renders every route from the server alone (prefix "${prefix}", scripts ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
      // With a prefix, API keys on too: the page is public only because it is listed.
      const app = await serveDocs(
        prefix ? { prefix, apiKeys: ['secret'], publicRoutes: ['/health', '/docs'] } : {},
      )
      const { page, requests, errors, close } = await open(`${app.url}${prefix}/docs`, { javaScriptEnabled })
      try {
        expect(await renderedRoutes(page)).toEqual(routes(prefix))
        expect(await page.locator('h1').textContent()).toBe('rerank-kit API 0.0.0')
        expect(await page.locator('body').textContent()).not.toContain('Loading')
        expect(await page.locator('#auth').textContent()).toBe(
          'When the server has API keys, send Authorization: Bearer <key> or x-api-key: <key>.',
        )
        // The first route is open: its body fields (from the schema), status codes and a pasteable curl.
        const first = page.locator('.route').first()
        expect(await first.getAttribute('open')).toBe('')
        expect(await first.locator('tr').nth(1).locator('td').allTextContents()).toEqual([
          'query',
          'string',
          'required',
        ])
        expect(await first.locator('ul.codes').textContent()).toContain('401 Missing or wrong API key')
        expect(await first.locator('pre.curl').textContent()).toContain(
          `curl '${app.url}${prefix}/rerank' -X POST`,
        )
        // Nothing but the page itself: no openapi.json fetch, no asset, no favicon.
        expect(requests).toEqual([`${app.url}${prefix}/docs`])
        expect(errors).toEqual([])
      } finally {
        await close()
        await app.close()
      }
    })
  }

  it('under a prefix, each rerank example answers 200 when run as shown', async () => {
    const app = await serveDocs({ prefix: '/reranker' })
    const { page, close } = await open(`${app.url}/reranker/docs`)
    try {
      const examples = await page.locator('.route.post pre.curl').allTextContents()
      expect(examples).toHaveLength(rerankRoutePaths.post.length)
      for (const example of examples) {
        expect(example).toMatch(new RegExp(`^curl '${app.url}/reranker/`))
        // The text exactly as the page shows it, through a real shell and curl.
        const { status, body } = await runShownExample(example)
        expect(status, example).toBe(200)
        // TEI has no top_n: its example ranks both documents.
        expect(rankedItems(body), example).toHaveLength(example.includes('"top_') ? 1 : 2)
      }
    } finally {
      await close()
      await app.close()
    }
  })
})
