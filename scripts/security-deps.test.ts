import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'

// SECURITY.md's Dependencies table must list every third-party runtime and peer dependency of every published
// package, with the version pnpm-lock.yaml locks and the range package.json accepts, and nothing else.

const root = join(import.meta.dirname, '..')
const read = (path: string) => readFileSync(join(root, path), 'utf8')

interface Manifest {
  name: string
  private?: boolean
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

interface LockedDependency {
  specifier: string
  version: string
}
interface Lockfile {
  importers: Record<
    string,
    { dependencies?: Record<string, LockedDependency>; devDependencies?: Record<string, LockedDependency> }
  >
}

const lock = parseYaml(read('pnpm-lock.yaml')) as Lockfile

/** Every published package: packages/<dir>/package.json without `private`. */
const published = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => ({
    dir: entry.name,
    manifest: JSON.parse(read(`packages/${entry.name}/package.json`)) as Manifest,
  }))
  .filter(({ manifest }) => !manifest.private)

interface Expected {
  kind: 'runtime' | 'peer' | 'optional peer'
  usedBy: string[]
  ranges: string[]
  locked: string[]
}

/** What the table must say, from the manifests and the lockfile. */
function expectedRows(): Map<string, Expected> {
  const rows = new Map<string, Expected>()
  const add = (
    name: string,
    kind: Expected['kind'],
    dir: string,
    range: string,
    locked: string | undefined,
  ) => {
    const row = rows.get(name) ?? { kind, usedBy: [], ranges: [], locked: [] }
    if (row.kind !== kind)
      throw new Error(`${name} is both ${row.kind} and ${kind}: the table has one kind a row`)
    row.usedBy.push(dir)
    if (!row.ranges.includes(range)) row.ranges.push(range)
    // The lockfile's version may carry the peers it was resolved with: 4.3.1(@types/node@20.19.43).
    const version = locked?.replace(/\(.*$/, '')
    if (version === undefined) throw new Error(`pnpm-lock.yaml has no version of ${name} for packages/${dir}`)
    if (!row.locked.includes(version)) row.locked.push(version)
    rows.set(name, row)
  }
  for (const { dir, manifest } of published) {
    const importer = lock.importers[`packages/${dir}`]
    if (!importer) throw new Error(`pnpm-lock.yaml has no importer packages/${dir}`)
    for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
      if (range.startsWith('workspace:')) continue // this repository's own packages
      add(name, 'runtime', dir, range, importer.dependencies?.[name]?.version)
    }
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
      const optional = manifest.peerDependenciesMeta?.[name]?.optional === true
      // A peer is installed here as a devDependency, for the package's own tests.
      const locked = importer.devDependencies?.[name]?.version ?? importer.dependencies?.[name]?.version
      add(name, optional ? 'optional peer' : 'peer', dir, range, locked)
    }
  }
  return rows
}

interface TableRow {
  name: string
  locked: string
  ranges: string
  kind: string
  usedBy: string[]
  purpose: string
}

/** The rows of the first table under `## Dependencies`; `\|` inside a cell is a literal bar. */
function tableRows(): TableRow[] {
  const security = read('SECURITY.md')
  const start = security.indexOf('\n## Dependencies\n')
  if (start < 0) throw new Error('SECURITY.md has no "## Dependencies" section')
  const section = security.slice(start + 1).split(/\n## /)[0]!
  const lines = section.split('\n').filter((line) => line.startsWith('|'))
  expect(lines[0]).toMatch(/^\| dependency \| locked \| range \| kind \| used by \| what it is for \|$/)
  expect(lines[1]).toMatch(/^\|( --- \|)+$/)
  return lines.slice(2).map((line) => {
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replaceAll('\\|', '|'))
    expect(cells, line).toHaveLength(6)
    const [name, locked, ranges, kind, usedBy, purpose] = cells as [
      string,
      string,
      string,
      string,
      string,
      string,
    ]
    return {
      name: name.replace(/^`(.*)`$/, '$1'),
      locked,
      ranges,
      kind,
      usedBy: usedBy.split(',').map((dir) => dir.trim()),
      purpose,
    }
  })
}

describe('SECURITY.md dependency table', () => {
  const expected = expectedRows()
  const rows = tableRows()

  it('covers the published packages, which do have third-party dependencies', () => {
    expect(published.map(({ dir }) => dir)).toContain('core')
    expect(expected.size).toBeGreaterThan(5)
  })

  it('lists every runtime and peer dependency of every published package, once', () => {
    const listed = rows.map((row) => row.name)
    expect(new Set(listed).size, 'a dependency listed twice').toBe(listed.length)
    const missing = [...expected.keys()].filter((name) => !listed.includes(name))
    expect(missing, 'dependencies missing from SECURITY.md').toEqual([])
    const stale = listed.filter((name) => !expected.has(name))
    expect(stale, 'rows that are no published package dependency').toEqual([])
  })

  it('gives each one its locked version, its ranges, its kind, the packages using it and a purpose', () => {
    for (const row of rows) {
      const want = expected.get(row.name)
      if (!want) continue // reported above
      expect(row.locked, `${row.name}: locked`).toBe(want.locked.join(', '))
      for (const range of want.ranges) expect(row.ranges, `${row.name}: range`).toContain(`\`${range}\``)
      expect(row.kind, `${row.name}: kind`).toBe(want.kind)
      expect([...row.usedBy].sort(), `${row.name}: used by`).toEqual([...want.usedBy].sort())
      expect(row.purpose.length, `${row.name}: what it is for`).toBeGreaterThan(10)
    }
  })
})
