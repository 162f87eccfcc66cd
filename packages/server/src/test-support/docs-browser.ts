import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
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
