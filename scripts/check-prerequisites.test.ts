import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

// The real script, as `pnpm test` runs it first, in a separate node process with a chosen PATH.
const script = join(import.meta.dirname, 'check-prerequisites.mjs')
const emptyDir = mkdtempSync(join(tmpdir(), 'no-programs-'))
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }))

function check(env: Record<string, string | undefined>) {
  const result = spawnSync(process.execPath, [script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 10_000,
  })
  return { status: result.status, lines: result.stderr.split('\n').filter(Boolean), stdout: result.stdout }
}

describe('scripts/check-prerequisites.mjs', () => {
  it('is the first step of the root `pnpm test`, before minutes of other work', () => {
    const { scripts } = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8'))
    expect(scripts.test.split(' && ')[0]).toBe('pnpm check:prerequisites')
    expect(scripts['check:prerequisites']).toBe('node scripts/check-prerequisites.mjs')
  })

  it('passes silently where redis-server and chromium are installed (as the test suite needs anyway)', () => {
    expect(check({})).toEqual({ status: 0, lines: [], stdout: '' })
  })

  it('names a missing redis-server in one line, with how to install it, and exits non-zero', () => {
    const { status, lines } = check({ PATH: emptyDir })
    expect(status).toBe(1)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^missing prerequisite: redis-server is not on the PATH/)
    expect(lines[0]).toContain('sudo apt-get install redis-server')
    expect(lines[0]).toContain('brew install redis')
  })

  it('names a missing chromium in one line, with how to install it and CHROMIUM_PATH', () => {
    const { status, lines } = check({ CHROMIUM_PATH: join(emptyDir, 'chromium') })
    expect(status).toBe(1)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^missing prerequisite: chromium is not at .*chromium \(/)
    expect(lines[0]).toContain('sudo apt-get install chromium')
    expect(lines[0]).toContain('CHROMIUM_PATH=')
  })

  it('names each missing program on its own line', () => {
    const { status, lines } = check({ PATH: emptyDir, CHROMIUM_PATH: join(emptyDir, 'chromium') })
    expect(status).toBe(1)
    expect(lines.map((line) => line.split(' ')[2])).toEqual(['redis-server', 'chromium'])
  })
})
