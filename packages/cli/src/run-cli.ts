import { RouterConfigError } from '@rerank-kit/router'
// Bundled into the build by tsup: only the version is kept.
import { version } from '../package.json'
import { type CliIo, processIo } from './cli-io'
import type { Command } from './command'
import { check } from './commands/check'
import { download } from './commands/download'
import { models } from './commands/models'
import { serve } from './commands/serve'
import { SettingsError } from './settings'
import { UsageError } from './usage-error'

export const commands: readonly Command[] = [serve, download, models, check]

/** Exit codes of every command. */
export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const

export function usage(): string {
  const width = Math.max(...commands.map((command) => command.name.length))
  return `Usage: rerank-kit <command> [flags]

Commands:
${commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Start with:  rerank-kit serve --model-path ./model
Help on one: rerank-kit <command> --help
Version:     rerank-kit --version

Exit codes: 0 success, 1 a failure (the model cannot load, the hub is unreachable), 2 a wrong command line.`
}

const isHelp = (arg: string) => arg === '--help' || arg === '-h'

/** The version of @rerank-kit/cli, which `rerank-kit --version` prints. */
export const cliVersion: string = version

/**
 * `rerank-kit <command> ...args`: runs one command and resolves with the process exit code (0 success,
 * 1 failure, 2 usage). Never throws: errors are written to io.stderr as `rerank-kit: <reason>`.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined) {
    io.stderr.write(`${usage()}\n`)
    return exitCodes.usage
  }
  if (isHelp(name) || name === 'help') {
    const topic = name === 'help' ? commands.find((command) => command.name === args[0]) : undefined
    io.stdout.write(`${topic ? topic.help : usage()}\n`)
    return exitCodes.ok
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${cliVersion}\n`)
    return exitCodes.ok
  }
  const command = commands.find((candidate) => candidate.name === name)
  if (!command) {
    io.stderr.write(
      `rerank-kit: unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})\n` +
        'Run "rerank-kit --help" for usage.\n',
    )
    return exitCodes.usage
  }
  // Anywhere, even after the `--` package managers pass through (`pnpm start -- --help`).
  if (args.some(isHelp)) {
    io.stdout.write(`${command.help}\n`)
    return exitCodes.ok
  }
  try {
    return await command.run(args, io)
  } catch (error) {
    if (error instanceof UsageError || error instanceof SettingsError || error instanceof RouterConfigError) {
      // One line: where a platform shows the last line of a failed start (a container's log), it is the reason.
      io.stderr.write(`rerank-kit: ${error.message} (see: rerank-kit ${command.name} --help)\n`)
      return exitCodes.usage
    }
    io.stderr.write(`rerank-kit ${command.name}: ${error instanceof Error ? error.message : String(error)}\n`)
    return exitCodes.failure
  }
}
