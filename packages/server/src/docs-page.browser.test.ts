import type { Browser, Page } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { launchChromium, serveDocs } from './test-support/docs-browser'

// GET /docs in a real headless browser: the page must render the OpenAPI document from the server alone.

const routes = (prefix: string) => [
  ...['/rerank', '/v1/rerank', '/v2/rerank', '/api/v1/rerank'].map((path) => `POST ${prefix}${path}`),
  ...['/health', '/ready', '/v1/models', '/stats', '/lb/stats', '/metrics', '/openapi.json', '/docs'].map(
    (path) => `GET ${prefix}${path}`,
  ),
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
async function open(url: string) {
  browser ??= launchChromium()
  const context = await (await browser).newContext()
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

/** "METHOD /path" of every rendered route, once the script has replaced the loading line. */
async function renderedRoutes(page: Page): Promise<string[]> {
  await page.locator('.route').first().waitFor()
  const methods = await page.locator('.route .method').allInnerTexts()
  const paths = await page.locator('.route .path').allInnerTexts()
  return methods.map((method, i) => `${method} ${paths[i]}`)
}

describe('GET /docs in headless chromium', () => {
  for (const prefix of ['', '/reranker']) {
    it(`renders every route from openapi.json without leaving the server (prefix "${prefix}")`, async () => {
      // With a prefix, API keys on too: the page and its document are public only because they are listed.
      const app = await serveDocs(
        prefix ? { prefix, apiKeys: ['secret'], publicRoutes: ['/health', '/docs', '/openapi.json'] } : {},
      )
      const { page, requests, errors, close } = await open(`${app.url}${prefix}/docs`)
      try {
        expect(await renderedRoutes(page)).toEqual(routes(prefix))
        expect(await page.locator('h1').textContent()).toBe('rerank-kit API 0.0.0')
        // The first route is open: its body fields (from the schema), status codes and a pasteable curl.
        const first = page.locator('.route').first()
        expect(await first.locator('tr').nth(1).locator('td').allTextContents()).toEqual([
          'query',
          'string',
          'required',
        ])
        expect(await first.locator('ul.codes').textContent()).toContain('401 Missing or wrong API key')
        expect(await first.locator('pre.curl').textContent()).toContain(
          `curl '${app.url}${prefix}/rerank' -X POST`,
        )
        expect(requests).toEqual([`${app.url}${prefix}/docs`, `${app.url}${prefix}/openapi.json`])
        expect(errors).toEqual([])
      } finally {
        await close()
        await app.close()
      }
    })
  }

  it('says why when API keys guard openapi.json but not the page', async () => {
    const app = await serveDocs({ prefix: '/reranker', apiKeys: ['secret'], publicRoutes: ['/docs'] })
    const { page, requests, close } = await open(`${app.url}/reranker/docs`)
    try {
      await page.locator('.error').waitFor()
      expect(await page.locator('.error').textContent()).toContain('openapi.json answered 401')
      expect(requests.every((url) => url.startsWith(`${app.url}/`))).toBe(true)
    } finally {
      await close()
      await app.close()
    }
  })
})
