/** Where a command writes and what it reads from its surroundings: the process, or a test's stand-ins. */
export interface OutputStream {
  write(text: string): unknown
  /** A terminal: progress bars redraw in place. */
  isTTY?: boolean
}

export interface CliIo {
  /** Results (what `models` lists, where `download` saved). */
  stdout: OutputStream
  /** Logs, progress and errors. */
  stderr: OutputStream
  env: Readonly<Record<string, string | undefined>>
  /** Relative paths (model folders, cache dir, config) and `.env` are taken from here. */
  cwd: string
}

export function processIo(overrides: Partial<CliIo> = {}): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    ...overrides,
  }
}
