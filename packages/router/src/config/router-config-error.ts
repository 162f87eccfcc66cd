/** One problem in a router config: where (`model_list[1].litellm_params.rpm`, or '' for the whole file) and what. */
export interface RouterConfigIssue {
  path: string
  message: string
}

/** How many issues the error message lists; all of them stay on `issues`. */
const listedIssues = 3

/**
 * Every config problem is reported through this error, naming the key path but never a value: configs carry
 * API keys and Redis passwords, and error messages end up in logs.
 */
export class RouterConfigError extends Error {
  override readonly name = 'RouterConfigError'
  readonly issues: RouterConfigIssue[]

  constructor(issues: RouterConfigIssue[], options: { source?: string; cause?: unknown } = {}) {
    super(routerConfigMessage(issues, options.source), { cause: options.cause })
    this.issues = issues
  }
}

function routerConfigMessage(issues: readonly RouterConfigIssue[], source: string | undefined): string {
  const listed = issues.slice(0, listedIssues).map(describeIssue).join('; ')
  const more = issues.length > listedIssues ? ` (and ${issues.length - listedIssues} more)` : ''
  const where = source === undefined ? '' : ` in ${source}`
  return `Invalid router config${where}: ${listed}${more}`
}

function describeIssue(issue: RouterConfigIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`
}

const plainKey = /^[A-Za-z_][\w-]*$/

/**
 * A key path in the form people read in YAML: `model_list[1].litellm_params.rpm`. Keys that are not plain
 * words (group names such as `BAAI/bge-reranker-base`) are quoted: `fallbacks[0]["BAAI/bge-reranker-base"]`.
 */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (typeof key === 'string' && plainKey.test(key)) out += out === '' ? key : `.${key}`
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}

/** Collects issues while a config is checked, so one run reports every problem instead of the first. */
export class ConfigIssues {
  readonly list: RouterConfigIssue[] = []

  add(path: readonly PropertyKey[], message: string): void {
    this.list.push({ path: formatConfigPath(path), message })
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new RouterConfigError(this.list)
  }
}
