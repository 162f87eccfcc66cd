import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

// The real script, as `pnpm test` runs it first, in a separate node process with a chosen PATH.
const script = join(import.meta.dirname, 'check-prerequisites.mjs')
const emptyDir = mkdtempSync(join(tmpdir(), 'no-programs-'))
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }))

/** A PATH with one of the machine's programs (linked into a folder of its own), and no other. */
function pathWithOnly(program: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim()
  const dir = mkdtempSync(join(emptyDir, `${program}-`))
  symlinkSync(found, join(dir, program))
  return dir
}

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

  it('passes silently where redis-server, curl and chromium are installed (as the test suite needs anyway)', () => {
    expect(check({})).toEqual({ status: 0, lines: [], stdout: '' })
  })

  it('names a missing redis-server in one line, with how to install it, and exits non-zero', () => {
    const { status, lines } = check({ PATH: pathWithOnly('curl') })
    expect(status).toBe(1)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^missing prerequisite: redis-server is not on the PATH/)
    expect(lines[0]).toContain('sudo apt-get install redis-server')
    expect(lines[0]).toContain('brew install redis')
  })

  it('names a missing curl in one line, with how to install it', () => {
    const { status, lines } = check({ PATH: pathWithOnly('redis-server') })
    expect(status).toBe(1)
    expect(lines).toEqual([
      'missing prerequisite: curl is not on the PATH (a test checks that curl reads a 413 like the Node clients): ' +
        'Debian/Ubuntu: sudo apt-get install curl; macOS: brew install curl',
    ])
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
    expect(lines.map((line) => line.split(' ')[2])).toEqual(['redis-server', 'curl', 'chromium'])
  })
})
