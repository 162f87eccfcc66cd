import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from './run-cli'
import { loadSettings } from './settings'
import { envExample, readmeWithSettingsTable } from './settings-docs'
import { settingDefinitions } from './settings-schema'

const repo = resolve(import.meta.dirname, '../../..')
const readme = readFileSync(join(repo, 'README.md'), 'utf8')
const envFile = readFileSync(join(repo, 'deploy/rerank-kit.env.example'), 'utf8')
const variables = Object.keys(settingDefinitions).map((setting) => `RERANKER_${setting}`)

async function serveHelp(): Promise<string> {
  let out = ''
  const sink = { write: (text: string) => (out += text) }
  const code = await runCli(['serve', '--help'], { stdout: sink, stderr: sink, env: {}, cwd: repo })
  expect(code).toBe(0)
  return out
}

// Each listing is read back on its own terms (not through the code that wrote it), so a hand edit or a stale
// file shows up as a difference in a variable's default.
const plain = (text: string) => text.replaceAll('`', '').trim()

function defaultsInHelp(help: string): Map<string, string> {
  const found = new Map<string, string>()
  for (const match of help.matchAll(
    /^\s+--[a-z0-9-]+(?: <value>)?\s+(RERANKER_[A-Z0-9_]+)\s.*\[default: (.*)\]$/gm,
  )) {
    found.set(match[1]!, plain(match[2]!))
  }
  return found
}

function defaultsInTable(markdown: string): Map<string, string> {
  const found = new Map<string, string>()
  for (const match of markdown.matchAll(
    /^\| `--[a-z0-9-]+` \| `(RERANKER_[A-Z0-9_]+)` \| (.*?) \| .* \|$/gm,
  )) {
    found.set(match[1]!, plain(match[2]!))
  }
  return found
}

/** `# what it does (default: X)` above `RERANKER_X=value` or `# RERANKER_X=value`. */
function defaultsInEnv(env: string): Map<string, string> {
  const found = new Map<string, string>()
  for (const match of env.matchAll(/^# .*\(default: (.*)\)\n(?:# )?(RERANKER_[A-Z0-9_]+)=.*$/gm)) {
    found.set(match[2]!, plain(match[1]!))
  }
  return found
}

/** What the server really uses when nothing is given, as the listings write it. */
function effectiveDefaults(): Map<string, string | undefined> {
  const settings = loadSettings({}, [], join(repo, 'no-such.env')) as unknown as Record<string, unknown>
  return new Map(
    Object.entries(settingDefinitions).map(([setting, { key }]) => {
      const value = settings[key]
      // An empty list or table is "none": the listings describe it in words.
      const empty = typeof value === 'object' && value !== null && Object.keys(value).length === 0
      const shown = empty ? undefined : Array.isArray(value) ? value.join(',') : value
      return [`RERANKER_${setting}`, shown === undefined ? undefined : String(shown)]
    }),
  )
}

describe('the settings listings', () => {
  it('README.md and deploy/rerank-kit.env.example are as `pnpm docs:settings` writes them', () => {
    expect(readmeWithSettingsTable(readme), 'run pnpm docs:settings').toBe(readme)
    expect(envExample(), 'run pnpm docs:settings').toBe(envFile)
  })

  it('name every RERANKER_* setting with the same default in the CLI help, the env example and the README', async () => {
    const listings = {
      help: defaultsInHelp(await serveHelp()),
      env: defaultsInEnv(envFile),
      table: defaultsInTable(readme),
    }
    for (const [name, defaults] of Object.entries(listings)) {
      expect([...defaults.keys()].sort(), name).toEqual([...variables].sort())
    }
    const effective = effectiveDefaults()
    for (const variable of variables) {
      const shown = listings.help.get(variable)
      expect(listings.env.get(variable), variable).toBe(shown)
      expect(listings.table.get(variable), variable).toBe(shown)
      // A fixed default is the value the server takes; a computed one is described in words, and the settings
      // leave it unset for the code that computes it.
      const value = effective.get(variable)
      if (value !== undefined) expect(shown, variable).toBe(value)
      else
        expect(shown, variable).toBe(
          plain(settingDefinitions[variable.slice('RERANKER_'.length)]!.defaultText ?? ''),
        )
    }
  })

  it('an alias is read as its setting, and the setting itself wins over it', () => {
    const missing = join(repo, 'no-such.env')
    expect(loadSettings({ RERANKER_MODEL_DIR: '/m' }, [], missing).modelCacheDir).toBe('/m')
    const both = { RERANKER_MODEL_DIR: '/alias', RERANKER_MODEL_CACHE_DIR: '/own' }
    expect(loadSettings(both, [], missing).modelCacheDir).toBe('/own')
  })

  it('catches a listing that drifts: a default changed by hand in the env example', () => {
    const edited = envFile.replace('# RERANKER_MAX_QUEUE=32000', '# RERANKER_MAX_QUEUE=600')
    expect(edited).not.toBe(envFile)
    const drifted = envFile.replace('(default: 32000)', '(default: 600)')
    expect(defaultsInEnv(drifted).get('RERANKER_MAX_QUEUE')).toBe('600')
    expect(defaultsInEnv(envFile).get('RERANKER_MAX_QUEUE')).toBe('32000')
    // The old example listed a rate limit "default" that is really off: it is shown as an example, default none.
    expect(defaultsInEnv(envFile).get('RERANKER_KEY_RATE_LIMIT')).toBe('none')
  })
})
