import { UsageError } from './usage-error'

/** A command's flags: each takes a value (`--dir ./models`, `--dir=./models`) or is a switch (`--json`). */
export type FlagSpec = Record<string, 'value' | 'switch'>

export interface ParsedFlags {
  values: Record<string, string | true>
  positionals: string[]
}

/** Flags and positionals of one command; an unknown flag or a flag without its value is a UsageError. */
export function parseFlags(command: string, argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const values: Record<string, string | true> = {}
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') continue // package managers pass it through: `pnpm start -- --port 1`
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg)
    const kind = match ? spec[match[1]!] : undefined
    if (!match || kind === undefined)
      throw new UsageError(`Unknown flag ${arg.split('=')[0]} for ${command}`, command)
    const name = match[1]!
    if (kind === 'switch') {
      if (match[2] !== undefined) throw new UsageError(`--${name} takes no value`, command)
      values[name] = true
      continue
    }
    const value = match[2] ?? argv[i + 1]
    if (value === undefined || (match[2] === undefined && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value`, command)
    }
    if (match[2] === undefined) i++
    values[name] = value
  }
  return { values, positionals }
}

export function flagValue(flags: ParsedFlags, name: string): string | undefined {
  const value = flags.values[name]
  return typeof value === 'string' ? value : undefined
}
