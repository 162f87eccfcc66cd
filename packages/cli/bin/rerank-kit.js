#!/usr/bin/env node
// A committed launcher, so pnpm links the `rerank-kit` bin at install time, before dist/ is built. Before a
// build there is nothing to run: say so in one line instead of Node's ERR_MODULE_NOT_FOUND stack.
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write(
    'rerank-kit is not built yet: run pnpm build first (in this repository, pnpm start runs the server from source)\n',
  )
  process.exit(1)
}
await import(cli.href)
