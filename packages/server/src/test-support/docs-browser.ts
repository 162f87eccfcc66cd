import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import { promisify } from 'node:util'
import { type Browser, chromium } from 'playwright-core'
import { createRerankHandler } from '../create-rerank-handler'
import type { RerankHandlerOptions } from '../handler-types'
import { createNodeListener } from '../node-http'
import type { MountedApp } from './adapter-spec'
import { listening } from './listening'
import { OverlapReranker } from './overlap-reranker'

/** Debian's package, not playwright's downloaded browser: CI has no internet but apt and npm. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Fails (never skips) without chromium: a skipped browser test would hide a broken /docs page. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: .ci/run installs the Debian package chromium (apt-get install chromium)`,
    )
  }
  // --no-sandbox: tests run as root in CI containers, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] })
}

/** The real handler behind node:http on 127.0.0.1, port 0, serving a tiny in-process reranker. */
export function serveDocs(options: Omit<RerankHandlerOptions, 'reranker'> = {}): Promise<MountedApp> {
  return listening(
    createServer(createNodeListener(createRerankHandler({ ...options, reranker: new OverlapReranker() }))),
  )
}

/**
 * The curl examples of the POST routes, as the page shows them in headless chromium, and the paths in the
 * openapi.json next to it. `headers`: sent with every request (an API key when the app requires one).
 */
export async function docsExamples(
  docsUrl: string,
  headers: Record<string, string> = {},
): Promise<{ examples: string[]; paths: string[] }> {
  const browser = await launchChromium()
  try {
    const page = await (await browser.newContext({ extraHTTPHeaders: headers })).newPage()
    const answer = await page.goto(docsUrl)
    if (answer?.status() !== 200) throw new Error(`${docsUrl} answered ${answer?.status()}`)
    const examples = await page.locator('.route.post pre.curl').allTextContents()
    // The page's own link, resolved against the page's URL as the browser would follow it.
    const link = await page.locator('a[href="./openapi.json"]').getAttribute('href')
    const spec = await page.request.get(new URL(link ?? '', page.url()).href)
    return { examples, paths: Object.keys((await spec.json()).paths) }
  } finally {
    await browser.close()
  }
}

/**
 * Runs a curl example exactly as shown, through a real shell, plus `extraArgs` (a key header); answers the
 * HTTP status and the parsed body.
 */
export async function runShownExample(
  example: string,
  extraArgs = '',
): Promise<{ status: number; body: unknown }> {
  const { stdout } = await promisify(execFile)(
    'sh',
    ['-c', `${example} ${extraArgs} -s -w '\\n%{http_code}'`],
    {
      timeout: 10_000,
    },
  )
  const cut = stdout.lastIndexOf('\n')
  return { status: Number(stdout.slice(cut + 1)), body: JSON.parse(stdout.slice(0, cut)) }
}

/** The ranked items of any family's answer: `results` (native, Cohere, Jina), `data` (Voyage, mixedbread), or
 * TEI's bare array. */
export function rankedItems(body: unknown): unknown[] {
  if (Array.isArray(body)) return body
  const { results, data } = body as { results?: unknown[]; data?: unknown[] }
  return results ?? data ?? []
}
