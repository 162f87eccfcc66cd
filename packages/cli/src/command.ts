import type { CliIo } from './cli-io'

/** One subcommand: `rerank-kit <name> ...`. `run` returns the exit code; usage errors are thrown as UsageError. */
export interface Command {
  name: string
  /** One line for the command list. */
  summary: string
  /** The full `rerank-kit <name> --help` text. */
  help: string
  run(args: readonly string[], io: CliIo): Promise<number>
}
