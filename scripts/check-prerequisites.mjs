#!/usr/bin/env node
// The first step of `pnpm test`: the tests need programs that `pnpm install` cannot bring. Without this check a
// fresh machine spends minutes on other tests before two files fail on a missing redis-server, one on a
// missing curl and one on a missing chromium. Plain JavaScript, so it runs before anything is built. Prints one
// line per missing program, naming how to install it, and exits 1; prints nothing and exits 0 when all are there.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

const onPath = (program) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && isExecutable(join(dir, program)))

const [major, minor] = process.versions.node.split('.').map(Number)
// The same default as packages/server/src/test-support/docs-browser.ts, which launches it.
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const missing = [
  major > 20 || (major === 20 && minor >= 19)
    ? null
    : `Node >= 20.19 is needed, this is ${process.versions.node}: install a current Node (https://nodejs.org)`,
  onPath('redis-server')
    ? null
    : 'redis-server is not on the PATH (the router tests run a real Redis): ' +
      'Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis',
  onPath('curl')
    ? null
    : 'curl is not on the PATH (a test checks that curl reads a 413 like the Node clients): ' +
      'Debian/Ubuntu: sudo apt-get install curl; macOS: brew install curl',
  isExecutable(chromiumPath)
    ? null
    : `chromium is not at ${chromiumPath} (the /docs page test runs it): ` +
      'Debian: sudo apt-get install chromium; Ubuntu: sudo snap install chromium, then export ' +
      'CHROMIUM_PATH=/snap/bin/chromium; macOS: brew install --cask chromium, then export ' +
      'CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium (any Chrome or Chromium binary works)',
].filter(Boolean)

for (const line of missing) process.stderr.write(`missing prerequisite: ${line}\n`)
process.exit(missing.length > 0 ? 1 : 0)
