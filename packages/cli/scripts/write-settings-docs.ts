// `pnpm docs:settings`: writes the settings table of the root README and deploy/rerank-kit.env.example from the
// settings schema (settings-docs.test.ts fails until they are written anew after a change to it).
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { envExample, readmeWithSettingsTable } from '../src/settings-docs'

const repo = resolve(import.meta.dirname, '../../..')
const readme = resolve(repo, 'README.md')
writeFileSync(readme, readmeWithSettingsTable(readFileSync(readme, 'utf8')))
writeFileSync(resolve(repo, 'deploy/rerank-kit.env.example'), envExample())
console.log('wrote README.md (Configuration) and deploy/rerank-kit.env.example')
