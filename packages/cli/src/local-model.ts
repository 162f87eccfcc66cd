import { defaultCacheDir, type EnvLookup, LocalReranker } from '@rerank-kit/core'
import type { Logger } from '@rerank-kit/protocol'
import type { OutputStream } from './cli-io'
import { progressBar } from './console-logger'
import { modelOfSettings, type ResolvePath } from './model-of-settings'
import type { Settings } from './settings'

/**
 * The model the settings name (RERANKER_MODEL_PATH / _NAME ...), loading from construction on, and beside it
 * each of `more` (the router config's `local/<name>` deployments: a hub id, or a folder relative to the
 * command's folder), served under that name.
 */
export function localModel(
  settings: Settings,
  from: ResolvePath,
  env: EnvLookup,
  logger: Logger,
  progress: OutputStream,
  more: readonly string[] = [],
) {
  const { model, name } = modelOfSettings(settings, from)
  const others = more
    .filter((other) => other !== name && other !== model)
    .map((other) => ({ model: isFolder(other) ? from(other) : other, name: other }))
  const reranker = new LocalReranker({
    models: [{ model, name }, ...others].map((entry) => ({
      ...entry,
      ...(settings.maxLength !== undefined && { maxLength: settings.maxLength }),
      ...(settings.workers !== undefined && { workers: settings.workers }),
      maxBatchSize: settings.batchSize,
      maxQueuedPairs: settings.maxQueue,
      // Half the deadline for waiting in the queue leaves the other half for the request's own batches.
      maxQueueWaitMs: settings.requestTimeout / 2,
      device: settings.device,
      dtype: settings.useFp16 ? 'fp16' : ('auto' as const),
    })),
    cacheDir: settings.modelCacheDir === undefined ? defaultCacheDir(env) : from(settings.modelCacheDir),
    offline: settings.useOfflineMode,
    logger,
    onProgress: progressBar(progress),
  })
  return { reranker, model }
}

/** `./models/x`, `../x`, `/srv/x` are folders; `BAAI/bge-reranker-base` is a hub id. */
function isFolder(model: string): boolean {
  return /^\.{0,2}\//.test(model)
}
