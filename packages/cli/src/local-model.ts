import { defaultCacheDir, type EnvLookup, LocalReranker } from '@rerank-kit/core'
import type { Logger } from '@rerank-kit/protocol'
import type { OutputStream } from './cli-io'
import { progressBar } from './console-logger'
import { modelOfSettings, type ResolvePath } from './model-of-settings'
import type { Settings } from './settings'

/** The model the settings name (RERANKER_MODEL_PATH / _NAME ...), loading from construction on. */
export function localModel(
  settings: Settings,
  from: ResolvePath,
  env: EnvLookup,
  logger: Logger,
  progress: OutputStream,
) {
  const { model, name } = modelOfSettings(settings, from)
  const reranker = new LocalReranker({
    models: [
      {
        model,
        name,
        ...(settings.maxLength !== undefined && { maxLength: settings.maxLength }),
        ...(settings.workers !== undefined && { workers: settings.workers }),
        maxBatchSize: settings.batchSize,
        maxQueuedPairs: settings.maxQueue,
        // Half the deadline for waiting in the queue leaves the other half for the request's own batches.
        maxQueueWaitMs: settings.requestTimeout / 2,
        device: settings.device,
        dtype: settings.useFp16 ? 'fp16' : 'auto',
      },
    ],
    cacheDir: settings.modelCacheDir === undefined ? defaultCacheDir(env) : from(settings.modelCacheDir),
    offline: settings.useOfflineMode,
    logger,
    onProgress: progressBar(progress),
  })
  return { reranker, model }
}
