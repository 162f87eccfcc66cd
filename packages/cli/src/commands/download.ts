import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { ModelDtype } from '@rerank-kit/core'
import { cacheDirOf } from '../cache-dir'
import type { CliIo } from '../cli-io'
import type { Command } from '../command'
import { consoleLogger, formatBytes, progressBar } from '../console-logger'
import { flagValue, parseFlags } from '../parse-flags'
import { UsageError } from '../usage-error'

const dtypes: readonly ModelDtype[] = ['auto', 'fp32', 'fp16', 'q8']

export const download: Command = {
  name: 'download',
  summary: 'fetch a model from the Hugging Face hub into the cache, for offline use',
  help: `Usage: rerank-kit download <org/name> [--dir <cacheDir>] [--revision <rev>] [--dtype <dtype>]

Downloads the files a reranker needs (config, tokenizer, one ONNX export) into the cache, with a progress
bar, then checks that the model loads and scores offline from there.

  rerank-kit download Xenova/ms-marco-MiniLM-L-6-v2
  rerank-kit serve --model-name Xenova/ms-marco-MiniLM-L-6-v2 --use-offline-mode

Flags:
  --dir <cacheDir>    the cache folder [RERANKER_MODEL_CACHE_DIR, else ~/.cache/rerank-kit/models (XDG):
                      where serve and LocalReranker look]
  --revision <rev>    branch, tag or commit [main]
  --dtype <dtype>     auto, fp32, fp16 or q8 (auto: the first present of fp32, q8, fp16) [auto]

The hub is HF_ENDPOINT (default https://huggingface.co); HF_TOKEN is sent for private or gated models.
Exit codes: 0 downloaded and verified, 1 the download or the check failed, 2 a wrong command line.`,
  run: runDownload,
}

async function runDownload(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags('download', args, { dir: 'value', revision: 'value', dtype: 'value' })
  const [model, ...extra] = flags.positionals
  if (model === undefined) throw new UsageError('download needs a model, e.g. org/name', 'download')
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`, 'download')
  const dtype = (flagValue(flags, 'dtype') ?? 'auto') as ModelDtype
  if (!dtypes.includes(dtype)) {
    throw new UsageError(`Invalid --dtype "${dtype}": expected one of ${dtypes.join(', ')}`, 'download')
  }
  // Imported when run, like every command's use of core: `serve` in load-balancer mode must not load it.
  const { hubDefaultsFromEnv, LocalReranker, resolveModel } = await import('@rerank-kit/core')
  const revision = flagValue(flags, 'revision') ?? 'main'
  const cacheDir = await cacheDirOf(flagValue(flags, 'dir'), io)
  const hub = hubDefaultsFromEnv(io.env)
  if (hub.offline) throw new Error('HF_HUB_OFFLINE is set: a download needs the network')
  const logger = consoleLogger('warn', io.stderr)

  io.stderr.write(`Downloading ${model} (revision ${revision}) from ${hub.hubEndpoint} into ${cacheDir}\n`)
  const bar = progressBar(io.stderr)
  const resolved = await resolveModel({
    model,
    revision,
    dtype,
    cacheDir,
    offline: false,
    hubEndpoint: hub.hubEndpoint,
    ...(hub.token !== undefined && { token: hub.token }),
    onProgress: (event) => bar(model, event),
    logger,
  })
  if (resolved.source === 'local') {
    throw new UsageError(`"${model}" is a local folder, not a hub id: serve it with --model-path`, 'download')
  }
  const what = `${model} (revision ${revision}, ${resolved.dtype})`
  io.stdout.write(
    `${resolved.source === 'hub' ? 'Downloaded' : 'Already cached:'} ${what} in ${resolved.dir}\n`,
  )

  // The check serve --use-offline-mode makes: from the cache alone, the model loads and scores a pair.
  const reranker = new LocalReranker({
    models: [{ model, revision, dtype: resolved.dtype, workers: 1 }],
    cacheDir,
    offline: true,
    logger,
  })
  try {
    const response = await reranker.rerank({
      query: 'what is a reranker',
      documents: ['A model that scores.'],
    })
    const score = response.results[0]?.score ?? Number.NaN
    const engine = reranker.engine()
    io.stdout.write(
      `Verified: loads offline on ${engine.provider} and scores (${score.toFixed(4)} for a test pair); ` +
        `${formatBytes(await sizeOf(resolved.dir))} on disk\n`,
    )
  } catch (error) {
    throw new Error(`${what} was downloaded but does not load: ${(error as Error).message}`)
  } finally {
    await reranker.close()
  }
  // serve loads a model's main revision; other revisions are for LocalReranker's `revision` option.
  if (revision === 'main') {
    io.stdout.write(
      `Serve it: rerank-kit serve --model-name ${model} --model-cache-dir ${cacheDir} --use-offline-mode\n`,
    )
  }
  return 0
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size
  }
  return total
}
