// What every core benchmark reads: the MiniLM-L6-sized model (`pnpm bench:model` makes it in bench-models/) and
// the SciFact corpus (`pnpm bench:data` puts it in bench-data/scifact/; CC BY-NC, never committed). Both folders
// are git-ignored. A missing input stops the script with a one-line hint.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import layout from '../../../scripts/bench-data-layout.json'

export const repo = resolve(import.meta.dirname, '../../..')
export const modelDir = join(repo, 'bench-models/ms-marco-MiniLM-L-6-v2-random')
const scifact = join(repo, layout.scifact.dir)

for (const [path, hint] of [
  ...layout.scifact.files.map(
    (file) => [join(scifact, file), 'run `pnpm bench:data` first (it fetches the SciFact corpus)'] as const,
  ),
  [join(modelDir, 'onnx/model.onnx'), 'run `pnpm bench:data` then `pnpm bench:model` first'] as const,
]) {
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
