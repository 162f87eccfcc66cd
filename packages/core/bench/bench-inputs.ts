// What every core benchmark reads: the MiniLM-L6-sized model (`pnpm bench:model` makes it) and the SciFact
// corpus beside the checkout (never copied into the repository). A missing input stops the script with a hint.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const repo = resolve(import.meta.dirname, '../../..')
export const modelDir = join(repo, 'bench-models/ms-marco-MiniLM-L-6-v2-random')
const scifact = resolve(repo, '../shared/data/scifact')

for (const [path, hint] of [
  [modelDir, 'run `pnpm bench:model` first'],
  [scifact, 'the SciFact corpus is expected in ../shared/data/scifact'],
] as const) {
  if (!existsSync(path)) {
    console.error(`missing ${path}: ${hint}`)
    process.exit(1)
  }
}

/** The `text` of the first `limit` lines of a SciFact file (`corpus.jsonl`, `queries.jsonl`). */
export const scifactTexts = (file: string, limit: number): string[] =>
  readFileSync(join(scifact, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, limit)
    .map((line) => (JSON.parse(line) as { text: string }).text)
