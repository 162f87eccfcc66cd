import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'

// Shared by the example apps' tests (imported by relative path; this folder is not a package).

/** The fixture model every example serves by default (a tiny BERT cross-encoder, no network needed). */
export const fixtureModelPath = join(import.meta.dirname, '../../fixtures/models/tiny-bert-reranker')

export interface RunningExample {
  child: ChildProcess
  /** Resolves with the exit code (or null when killed by a signal). */
  exited: Promise<number | null>
  /** Everything printed so far, stdout and stderr interleaved. */
  output: () => string
  /** Waits until the output matches (checked every 50 ms), failing after `timeoutMs` with the output. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>
}

const running = new Set<ChildProcess>()

/**
 * Runs an example's src/main.ts as its own process, from source: node with tsx's loader, not the tsx CLI
 * (the CLI is a second process, and a signal sent to it would not reach the example behind it).
 */
export function runExample(exampleDir: string, args: string[] = [], env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    ['--conditions=@rerank-kit/source', '--import', 'tsx', 'src/main.ts', ...args],
    { cwd: exampleDir, env: { ...process.env, ...env } },
  )
  running.add(child)
  let output = ''
  const collect = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child)
      resolve(code)
    }),
  )
  const waitFor = async (pattern: RegExp, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = pattern.exec(output)
      if (match) return match
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `no ${pattern} in the output of ${exampleDir} (exit code ${child.exitCode}):\n${output}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return { child, exited, output: () => output, waitFor } satisfies RunningExample
}

/** Starts an example app on port 0 and resolves with the URL it prints (`... listening on http://...`). */
export async function startExampleApp(exampleDir: string, env: Record<string, string> = {}) {
  const app = runExample(exampleDir, [], { PORT: '0', ...env })
  const [, url] = await app.waitFor(/listening on (http:\/\/\S+)/)
  return { ...app, url: url! }
}

/** Kills whatever example is still running (a failed test must not leave one behind). */
export function killExamples(): void {
  for (const child of running) child.kill('SIGKILL')
}
