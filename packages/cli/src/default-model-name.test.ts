import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { modelOfSettings } from './model-of-settings'
import { loadSettings } from './settings'
import { defaultModelName } from './settings-schema'

const repo = resolve(import.meta.dirname, '../../..')

/** The repository's Markdown pages, shipped sources and deploy files (not dependencies, builds or data). */
function pages(dir = repo): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (
      entry.name.startsWith('.') ||
      ['node_modules', 'dist', 'bench-data', 'bench-models'].includes(entry.name)
    )
      return []
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return pages(path)
    return /\.(md|ya?ml|example)$/.test(entry.name) ? [path] : []
  })
}

describe('the default model', () => {
  it('is the one the server loads when none is named', () => {
    const settings = loadSettings({}, [], join(repo, 'no-such.env'))
    expect(modelOfSettings(settings, (path) => path)).toEqual({
      model: defaultModelName,
      name: defaultModelName,
    })
  })

  it('is the model every page of the docs names for ms-marco-MiniLM-L-6-v2', () => {
    const named = pages().flatMap((path) =>
      [...readFileSync(path, 'utf8').matchAll(/(?<![\w./-])[\w-]+\/ms-marco-MiniLM-L-6-v2(?![\w./-])/g)].map(
        (match) => ({
          page: relative(repo, path),
          id: match[0],
        }),
      ),
    )
    expect(named.length).toBeGreaterThan(5)
    expect(named.filter(({ id }) => id !== defaultModelName)).toEqual([])
  })
})
