import { defaultCacheDir, type EnvLookup, LocalReranker, resolveModel } from '@rerank-kit/core'
import type { Logger } from '@rerank-kit/protocol'
import type { OutputStream } from './cli-io'
import { progressBar } from './console-logger'
import { type AccessCheck, assertCacheWritable, assertModelFolderReadable } from './model-access'
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

/**
 * Before listening: the model folder of RERANKER_MODEL_PATH can be read, or, for a hub model that a download may
 * bring (online, not complete in the cache), the cache can be written. Throws a ModelAccessError (one line).
 */
export async function assertModelAccess(
  settings: Settings,
  from: ResolvePath,
  env: EnvLookup,
  access?: AccessCheck,
): Promise<void> {
  if (settings.modelPath) return assertModelFolderReadable(from(settings.modelPath), access)
  if (settings.useOfflineMode) return // nothing is written; a model missing from the cache is named by the load
  const { model } = modelOfSettings(settings, from)
  const cacheDir = settings.modelCacheDir === undefined ? defaultCacheDir(env) : from(settings.modelCacheDir)
  // A cache filled ahead may be read-only: only a download needs to write.
  const cached = await resolveModel({
    model,
    cacheDir,
    offline: true,
    dtype: settings.useFp16 ? 'fp16' : 'auto',
  }).then(
    () => true,
    () => false,
  )
  if (!cached) await assertCacheWritable(cacheDir, access)
}

/** `./models/x`, `../x`, `/srv/x` are folders; `BAAI/bge-reranker-base` is a hub id. */
function isFolder(model: string): boolean {
  return /^\.{0,2}\//.test(model)
}
