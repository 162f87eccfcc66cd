import {
  flagOf,
  type SettingDefinition,
  type SettingGroup,
  settingDefinitions,
  shownDefault,
} from './settings-schema'

// The three listings of the settings, made from the one schema: `serve --help`, the root README's table and
// deploy/rerank-kit.env.example (`pnpm docs:settings` writes the last two; settings-docs.test.ts checks them).

const entries = Object.entries(settingDefinitions)

/** One line per setting: its flag, its variable, what it does and `[default: ...]` (for `serve --help`). */
export function settingsHelp(): string {
  const rows = entries.map(
    ([setting, definition]) =>
      [
        flagOf(setting),
        `RERANKER_${setting}`,
        `${definition.help} [default: ${shownDefault(definition)}]`,
      ] as const,
  )
  const flagWidth = Math.max(...rows.map(([flag]) => flag.length))
  const variableWidth = Math.max(...rows.map(([, variable]) => variable.length))
  return rows
    .map(
      ([flag, variable, help]) => `  ${flag.padEnd(flagWidth)}  ${variable.padEnd(variableWidth)}  ${help}`,
    )
    .join('\n')
}

const code = (value: string) => `\`${value}\``

/** The Markdown table of the root README's "Configuration" section. */
export function settingsTable(): string {
  const rows = entries.map(([setting, definition]) => {
    const flag = code(flagOf(setting).replace(' <value>', ''))
    const variable = code(`RERANKER_${setting}`)
    // A computed default is words (`1 below 4 cores, else 2`), a fixed one a value to copy.
    const shown =
      definition.defaultText === undefined
        ? code(shownDefault(definition))
        : shownDefault(definition, { markdown: true })
    const meaning = definition.details ? `${definition.help}; ${definition.details}` : definition.help
    return `| ${flag} | ${variable} | ${shown} | ${meaning.replaceAll('|', '\\|')} |`
  })
  return ['| flag | variable | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n')
}

const groupOrder: readonly SettingGroup[] = ['Server', 'Model', 'Limits', 'Access', 'Load balancer']

/**
 * deploy/rerank-kit.env.example: every setting, each after a comment with what it does and its default; set
 * where a systemd deployment usually sets it, else commented out at its default (or at an example value).
 * systemd's EnvironmentFile= has no comments after a value, hence the comment line above each.
 */
export function envExample(): string {
  const header = [
    '# /etc/rerank-kit/rerank-kit.env: the RERANKER_* settings of `rerank-kit serve`, one KEY=value per line.',
    '# systemd reads it (EnvironmentFile=): no shell expansion, no comment after a value. Every setting is here;',
    '# those not set are commented out at their default, or at an example value where the default is computed.',
    '# Generated from the settings schema (packages/cli/src/settings-schema.ts) by `pnpm docs:settings`.',
  ]
  const sections = groupOrder.map((group) => {
    const lines = entries
      .filter(([, definition]) => definition.group === group)
      .flatMap(([setting, definition]) => envLines(setting, definition))
    return ['', `## ${group}`, ...lines].join('\n')
  })
  return `${[...header, ...sections].join('\n')}\n`
}

function envLines(setting: string, definition: SettingDefinition): string[] {
  const comment = `# ${definition.help} (default: ${shownDefault(definition)})`
  const variable = `RERANKER_${setting}`
  if (definition.deployed !== undefined) return [comment, `${variable}=${definition.deployed}`]
  const value = definition.example ?? shownDefault(definition)
  return [comment, `# ${variable}=${value}`]
}

const tableStart =
  '<!-- settings table: made by `pnpm docs:settings` from packages/cli/src/settings-schema.ts -->'
const tableEnd = '<!-- end of the settings table -->'

/** The root README with its settings table (between the two markers) made anew. */
export function readmeWithSettingsTable(readme: string): string {
  const start = readme.indexOf(tableStart)
  const end = readme.indexOf(tableEnd)
  if (start === -1 || end < start)
    throw new Error(`README.md has no "${tableStart}" ... "${tableEnd}" section`)
  return `${readme.slice(0, start)}${tableStart}\n${settingsTable()}\n${readme.slice(end)}`
}
