import { readFileSync } from 'node:fs'
import { settingsHelp } from '@rerank-kit/cli'
import { describe, expect, it } from 'vitest'

// The README promises two set-up commands; CI must run exactly the test one, or the promise goes stale.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const ciScript = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')

function commandLine(marker: string): string {
  const line = readme.split('\n').find((text) => text.includes(`# ${marker}`))
  if (!line) throw new Error(`README has no command marked "${marker}"`)
  return line.split('#')[0]!.trim()
}

describe('README set-up commands', () => {
  it('has a start command and a test command', () => {
    expect(commandLine('start the standalone server')).toBe(
      'corepack enable && pnpm install && pnpm start --model-path fixtures/models/tiny-bert-reranker',
    )
    expect(commandLine('lint, typecheck')).toBe('corepack enable && pnpm install && pnpm test')
  })

  it('CI ends by running exactly the README test command', () => {
    const lines = ciScript.trim().split('\n')
    expect(lines.at(-1)).toBe(commandLine('lint, typecheck'))
  })
})

describe('README configuration table', () => {
  it('lists every setting the server reads, with its flag, and nothing it does not read', () => {
    const fromHelp = settingsHelp()
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .map((words) => [words[0]!, words.find((word) => word.startsWith('RERANKER_'))!])
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Routes'))
    const rows = [...table.matchAll(/^\| `(--[a-z0-9-]+)` \| `(RERANKER_[A-Z0-9_]+)` \|/gm)].map((m) => [
      m[1],
      m[2],
    ])
    expect(rows).toEqual(fromHelp)
    expect(rows.length).toBeGreaterThan(10)
  })
})
