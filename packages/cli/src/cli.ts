#!/usr/bin/env node
// The `rerank-kit` command (bin of @rerank-kit/cli). Everything is in runCli; this file only runs it.
import { processIo } from './cli-io'
import { runCli } from './run-cli'

runCli(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code
})
