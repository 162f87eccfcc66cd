import { type ChildProcess, spawn } from 'node:child_process'

/**
 * Starts a TypeScript file under node with tsx's loader (resolved from `cwd`; no tsx CLI in between, so a kill
 * reaches the child itself) and resolves with the first match of `pattern` in its stdout or stderr (where it
 * says its port). Its stderr is kept for the error message when it exits before saying it. `nodeArgs` go to node
 * before the loader (`--cpu-prof`, which NODE_OPTIONS refuses).
 */
export async function startChild(
  args: string[],
  pattern: RegExp,
  options: { cwd?: string; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      const found = pattern.exec(output)
      if (found) resolve(found)
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}):\n${output}`)))
  })
  return { child, match }
}
