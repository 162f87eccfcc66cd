import { cacheDirOf } from '../cache-dir'
import { listCachedModels } from '../cached-models'
import type { CliIo } from '../cli-io'
import type { Command } from '../command'
import { formatBytes } from '../console-logger'
import { flagValue, parseFlags } from '../parse-flags'
import { UsageError } from '../usage-error'

export const models: Command = {
  name: 'models',
  summary: 'list the models in the cache',
  help: `Usage: rerank-kit models [--dir <cacheDir>] [--json]

Lists the cached models: repo, revision, ONNX exports, files and size. "partial" marks a folder whose
download did not finish (run rerank-kit download again to complete it).

Flags:
  --dir <cacheDir>    the cache folder [RERANKER_MODEL_CACHE_DIR, else ~/.cache/rerank-kit/models (XDG)]
  --json              one JSON array instead of a table`,
  run: runModels,
}

async function runModels(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags('models', args, { dir: 'value', json: 'switch' })
  if (flags.positionals.length > 0) {
    throw new UsageError(`Unexpected argument "${flags.positionals[0]}"`, 'models')
  }
  const cacheDir = await cacheDirOf(flagValue(flags, 'dir'), io)
  const cached = await listCachedModels(cacheDir)
  if (flags.values.json) {
    io.stdout.write(`${JSON.stringify(cached, null, 2)}\n`)
    return 0
  }
  if (cached.length === 0) {
    io.stdout.write(`No models cached in ${cacheDir} (rerank-kit download <org/name> adds one)\n`)
    return 0
  }
  const rows = [
    ['REPO', 'REVISION', 'DTYPES', 'FILES', 'SIZE', 'STATUS'],
    ...cached.map((model) => [
      model.repo,
      model.revision,
      model.dtypes.join(',') || '-',
      String(model.files.length),
      formatBytes(model.size),
      model.complete ? 'ready' : 'partial',
    ]),
  ]
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  io.stdout.write(`Models in ${cacheDir}:\n`)
  for (const row of rows) {
    io.stdout.write(
      `${row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd()}\n`,
    )
  }
  return 0
}
