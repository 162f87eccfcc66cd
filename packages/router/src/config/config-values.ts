import { type ConfigIssues, formatConfigPath } from './router-config-error'

type Path = readonly PropertyKey[]

export interface Candidate<T> {
  path: Path
  value: T | null | undefined
}

/** The one value set among several synonymous keys; a second, different value is reported at its own path. */
export function agreedValue<T>(
  candidates: readonly Candidate<T>[],
  issues: ConfigIssues,
): NonNullable<T> | undefined {
  const set = candidates.filter(
    (candidate): candidate is { path: Path; value: NonNullable<T> } => candidate.value != null,
  )
  const first = set[0]
  if (first === undefined) return undefined
  for (const other of set.slice(1)) {
    if (other.value !== first.value) {
      issues.add(other.path, `conflicts with ${formatConfigPath(first.path)}: set one of them, or both alike`)
    }
  }
  return first.value
}

/** LiteLLM's times are seconds; ours are milliseconds. */
export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1_000)
}

/** Optional keys are left out rather than set to undefined, so the output compares and spreads cleanly. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T
}

export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false
  const { protocol } = new URL(value)
  return protocol === 'http:' || protocol === 'https:'
}
