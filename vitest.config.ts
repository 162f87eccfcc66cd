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
      ...[...workspaceDirs('packages'), ...workspaceDirs('examples'), ...workspaceDirs('tests')].map(
        (root) => ({
          extends: true as const,
          test: { name: root.split('/')[1], root, include: ['src/**/*.test.ts'] },
        }),
      ),
      // The Express adapter's specs once more with Express 4 (the peer range says 4 or 5): `express`, imported
      // by the adapter and the tests alike, resolves to the express4 alias package.
      {
        extends: true as const,
        resolve: { alias: [{ find: /^express$/, replacement: 'express4' }] },
        test: {
          name: 'express4',
          root: 'packages/express',
          include: ['src/**/*.test.ts'],
          env: { EXPRESS_MAJOR: '4' },
        },
      },
      { extends: true as const, test: { name: 'repo', root: '.', include: ['scripts/**/*.test.ts'] } },
    ],
  },
})
