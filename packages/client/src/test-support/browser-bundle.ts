import { build, type Metafile } from 'esbuild'

/**
 * Bundles the client the way a browser app would (esbuild, platform browser, minified) and lists what the
 * bundle still imports from outside. Used by the bundle test and by `pnpm --filter @rerank-kit/client size`.
 */
export async function bundleForBrowser(entry: string) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    // Sources, as the tests see them; a node builtin would fail to resolve here unless left external.
    conditions: ['@rerank-kit/source', 'browser', 'import'],
    external: ['node:*'],
    metafile: true,
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]!
  const metafile = result.metafile as Metafile
  const imports = Object.values(metafile.outputs).flatMap((out) =>
    out.imports.map((imported) => imported.path),
  )
  return { bytes: output.contents.byteLength, code: output.text, externalImports: imports }
}
