import { basename } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import type { Logger } from '@rerank-kit/protocol'
import { progressBar } from './console-logger'
import type { Settings } from './settings'

/** Resolves a path given in the settings; `pnpm start` runs in this package's folder, so relative to INIT_CWD. */
export type ResolvePath = (path: string) => string

/** The model the settings name (RERANKER_MODEL_PATH / _NAME ...), loading from construction on. */
export function localModel(settings: Settings, from: ResolvePath, logger: Logger) {
  // The seed defaulted to BAAI/bge-reranker-v2-m3, whose repo has no ONNX files; this is a known ONNX export.
  const model = settings.modelPath
    ? from(settings.modelPath)
    : (settings.modelName ?? 'Xenova/ms-marco-MiniLM-L-6-v2')
  const name = settings.modelName ?? (settings.modelPath ? basename(model) : model)
  const reranker = new LocalReranker({
    models: [
      {
        model,
        name,
        ...(settings.maxLength !== undefined && { maxLength: settings.maxLength }),
        ...(settings.workers !== undefined && { workers: settings.workers }),
        maxBatchSize: settings.batchSize,
        device: settings.device,
        dtype: settings.useFp16 ? 'fp16' : 'auto',
      },
    ],
    cacheDir: from(settings.modelCacheDir),
    offline: settings.useOfflineMode,
    logger,
    onProgress: progressBar(),
  })
  return { reranker, model }
}
