import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cliPackageDir } from './test-support/spawn-cli'

// The committed bin/rerank-kit.js, copied into a package folder of its own: whether dist/ exists there is up to
// the test, and the real dist/ of this package (built or not) is left alone.
const folders: string[] = []
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

function packageWithLauncher(): string {
  const folder = mkdtempSync(join(tmpdir(), 'rerank-kit-bin-'))
  folders.push(folder)
  mkdirSync(join(folder, 'bin'))
  copyFileSync(join(cliPackageDir, 'bin/rerank-kit.js'), join(folder, 'bin/rerank-kit.js'))
  return folder
}

function runLauncher(folder: string) {
  const result = spawnSync(process.execPath, [join(folder, 'bin/rerank-kit.js'), '--help'], {
    encoding: 'utf8',
    timeout: 10_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('bin/rerank-kit.js', () => {
  it('before a build, says in one line to run pnpm build first, without a stack, and exits 1', () => {
    const { status, stdout, stderr } = runLauncher(packageWithLauncher())
    expect(status).toBe(1)
    expect(stdout).toBe('')
    expect(stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(stderr).toContain('run pnpm build first')
    expect(stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|\n\s+at /)
  })

  it('once built, runs dist/cli.js with the arguments given', () => {
    const folder = packageWithLauncher()
    mkdirSync(join(folder, 'dist'))
    writeFileSync(join(folder, 'dist/cli.js'), 'console.log(JSON.stringify(process.argv.slice(2)))\n')
    const { status, stdout, stderr } = runLauncher(folder)
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' })
    expect(JSON.parse(stdout)).toEqual(['--help'])
  })
})
