import { existsSync, readdirSync } from 'node:fs'
import { defineConfig } from 'vitest/config'

// Tests import workspace packages through the `@rerank-kit/source` export condition, so they run against
// src/ and never need a build. No "module" condition: it selects bundler-only builds (e.g. @smithy's dist-es,
// with extensionless imports) that Node cannot load.
const conditions = ['@rerank-kit/source', 'node', 'development|production']

// Workspace packages only: a folder without package.json (e.g. examples/test-support) is shared code, not a project.
const workspaceDirs = (parent: string) =>
  readdirSync(parent, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(`${parent}/${entry.name}/package.json`))
    .map((entry) => `${parent}/${entry.name}`)

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@rerank-kit/source'] } },
  test: {
    // Model tests share 2 cores with every other test file; 5 s (vitest's default) is too tight under load.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      ...[...workspaceDirs('packages'), ...workspaceDirs('examples')].map((root) => ({
        extends: true as const,
        test: { name: root.split('/')[1], root, include: ['src/**/*.test.ts'] },
      })),
      { extends: true as const, test: { name: 'repo', root: '.', include: ['scripts/**/*.test.ts'] } },
    ],
  },
})
