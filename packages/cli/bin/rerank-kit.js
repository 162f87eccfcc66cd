#!/usr/bin/env node
// A committed launcher, so pnpm links the `rerank-kit` bin at install time, before dist/ is built.
import '../dist/cli.js'
