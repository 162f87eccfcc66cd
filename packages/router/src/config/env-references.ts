import { ConfigIssues } from './router-config-error'

/** Where `os.environ/NAME` references are looked up; `process.env` by default. */
export type EnvSource = Readonly<Record<string, string | undefined>>

/** LiteLLM's syntax for "read this value from the environment": the whole string is the reference. */
export const envReferencePrefix = 'os.environ/'

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Replaces every string `os.environ/NAME` in a tree of plain objects and arrays with that variable's value.
 * A reference to a variable that is unset or empty is an error naming the key path and the variable; an empty
 * key is treated as a mistake (`export COHERE_API_KEY=`) rather than sent as an empty credential. Values are
 * never put in a message. Returns a copy: the input is not changed.
 *
 * @throws RouterConfigError listing every unresolved reference.
 */
export function resolveEnvReferences<T>(
  tree: T,
  env: EnvSource = process.env,
  basePath: readonly PropertyKey[] = [],
): T {
  const issues = new ConfigIssues()
  const resolved = resolveNode(tree, env, [...basePath], issues)
  issues.throwIfAny()
  return resolved as T
}

function resolveNode(node: unknown, env: EnvSource, path: PropertyKey[], issues: ConfigIssues): unknown {
  if (typeof node === 'string') return resolveString(node, env, path, issues)
  if (Array.isArray(node)) return node.map((item, index) => resolveNode(item, env, [...path, index], issues))
  if (isPlainObject(node)) {
    // Object.fromEntries defines own properties, so a key named `__proto__` stays data, not a prototype.
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, resolveNode(value, env, [...path, key], issues)]),
    )
  }
  return node
}

function resolveString(value: string, env: EnvSource, path: PropertyKey[], issues: ConfigIssues): string {
  if (!value.startsWith(envReferencePrefix)) return value
  const name = value.slice(envReferencePrefix.length)
  if (!envName.test(name)) {
    issues.add(path, `invalid environment reference: expected ${envReferencePrefix}NAME`)
    return value
  }
  const resolved = env[name]
  if (resolved === undefined) issues.add(path, `environment variable ${name} is not set`)
  else if (resolved === '') issues.add(path, `environment variable ${name} is empty`)
  return resolved ?? value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
