import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bundleForBrowser } from './test-support/browser-bundle'

// The client must run in browsers and edge runtimes: its bundle may not need a single Node module.
describe('browser bundle', () => {
  it('the client bundles for browsers with no node: imports', async () => {
    const bundle = await bundleForBrowser(join(import.meta.dirname, 'index.ts'))
    expect(bundle.externalImports).toEqual([])
    expect(bundle.code).not.toMatch(/["'`]node:/)
    expect(bundle.code).toContain('RerankClient')
    // zod + protocol: a ceiling that catches an accidental heavy dependency, not a speed claim.
    expect(bundle.bytes).toBeLessThan(200 * 1024)
  })

  it('a node builtin anywhere in the graph would be caught', async () => {
    const bundle = await bundleForBrowser(join(import.meta.dirname, 'test-support/fake-vendors.ts'))
    expect(bundle.externalImports).toContain('node:http')
  })
})
