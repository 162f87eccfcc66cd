import { type ChildProcess, spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

// The real command as a separate process, from source: node with tsx's loader (a devDependency of this
// package) and the @rerank-kit/source condition, as `rerank-kit` would run once built. Never needs a build.

export const cliPackageDir = join(import.meta.dirname, '../..')
export const fixtureModel = join(cliPackageDir, '../../fixtures/models/tiny-bert-reranker')

/** The fixture model's files by repo path, to serve from a FakeHub as `org/name`. */
export async function fixtureModelFiles(): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {}
  for (const entry of await readdir(fixtureModel, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    files[
      path
        .slice(fixtureModel.length + 1)
        .split('\\')
        .join('/')
    ] = await readFile(path)
  }
  return files
}

const tsx = pathToFileURL(createRequire(join(cliPackageDir, 'package.json')).resolve('tsx')).href
const running: ChildProcess[] = []

/** The machine's HF_*, RERANKER_* and OTEL_* settings must not leak into the command under test. */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('HF_') && !name.startsWith('RERANKER_') && !name.startsWith('OTEL_'),
    ),
  )
  return { ...clean, ...env }
}

/** Starts `rerank-kit <args>`; its output is collected, and `waitFor` polls stderr (the log) for a pattern. */
export function spawnCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    ['--import', tsx, '--conditions=@rerank-kit/source', 'src/cli.ts', ...args],
    { cwd: cliPackageDir, env: cleanEnv(env) },
  )
  running.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const waitFor = async (pattern: RegExp) => {
    for (let i = 0; i < 600; i++) {
      const match = pattern.exec(stderr)
      if (match) return match
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`timed out waiting for ${pattern} in:\n${stderr}`)
  }
  return { child, exited, waitFor, stdout: () => stdout, stderr: () => stderr }
}

/** For afterEach: no command outlives its test. */
export function killSpawnedClis(): void {
  for (const child of running.splice(0)) child.kill('SIGKILL')
}
