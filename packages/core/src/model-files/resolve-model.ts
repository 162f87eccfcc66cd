import { resolve } from 'node:path'
import { type Logger, RerankError, silentLogger } from '@rerank-kit/protocol'
import { isDirectory } from './atomic-file'
import { defaultCacheDir, pathInDir, revisionDir } from './cache-layout'
import { downloadModelFiles } from './download-model-files'
import { type DownloadProgress, guardedListener, type ProgressListener } from './download-progress'
import { hubDefaultsFromEnv } from './hub-env'
import { abortedError } from './hub-errors'
import { assertHubEndpoint, assertRepoId, assertRevision } from './hub-repo'
import { inspectModelDir, looksLikePath, missingFilesError } from './model-dir'
import { type ConcreteDtype, isModelDtype, type ModelDtype, onnxFileOf } from './model-dtype'
import { readModelConfig } from './read-model-config'
import { type CachedFile, readCompleteManifest } from './resolved-manifest'

export interface ResolveModelOptions {
  /** A hub id (`org/name` or `name`), or a local folder: absolute, `./`/`../` relative, or any existing dir. */
  model: string
  /** Branch, tag or commit. Default `main`. */
  revision?: string
  /** Where hub downloads go. Default: `defaultCacheDir()` (XDG, or RERANKER_MODEL_CACHE_DIR; cache-layout.ts). */
  cacheDir?: string
  /** Never touch the network: use the cache or fail naming every missing file. Default: HF_HUB_OFFLINE. */
  offline?: boolean
  /**
   * fp32 `onnx/model.onnx`, fp16 `onnx/model_fp16.onnx`, q8 `onnx/model_quantized.onnx`; `auto` (the default)
   * takes the first present of fp32, q8, fp16.
   */
  dtype?: ModelDtype
  /** Default: HF_ENDPOINT, else `https://huggingface.co`. */
  hubEndpoint?: string
  /** Sent as `Authorization: Bearer`; never logged or put in an error. Default: HF_TOKEN; `''` sends none. */
  token?: string
  onProgress?: (event: DownloadProgress) => void
  /** Default: the global fetch. */
  fetch?: typeof fetch
  signal?: AbortSignal
  /** Default: silent. */
  logger?: Logger
}

export interface ResolvedModel {
  /** Absolute folder with config.json, tokenizer.json, tokenizer_config.json and onnx/. */
  dir: string
  /** Absolute path of the chosen ONNX file. */
  onnxPath: string
  dtype: ConcreteDtype
  /** `cache`: nothing had to be downloaded; `hub`: at least one file was. */
  source: 'local' | 'cache' | 'hub'
  config: Record<string, unknown>
}

/**
 * Turns a model reference into a local folder holding what a cross-encoder needs, downloading from the hub
 * only when the cache lacks something. Local folders and offline mode never touch the network.
 */
export async function resolveModel(options: ResolveModelOptions): Promise<ResolvedModel> {
  const { model, signal } = options
  const logger = options.logger ?? silentLogger
  const dtype = options.dtype ?? 'auto'
  if (typeof model !== 'string' || model.trim() === '') {
    throw new RerankError('invalid_request', 'A model id or folder is required', { param: 'model' })
  }
  if (!isModelDtype(dtype)) {
    throw new RerankError('invalid_request', `Unknown dtype "${String(dtype)}"`, { param: 'dtype' })
  }
  if (signal?.aborted) throw abortedError(`Resolving model "${model}"`, signal)
  const onProgress = options.onProgress && guardedListener(options.onProgress, logger)

  if (looksLikePath(model) || (await isDirectory(model))) {
    return finish(model, await localModel(model, dtype), 'local', logger)
  }

  assertRepoId(model)
  const revision = options.revision ?? 'main'
  assertRevision(revision)
  const env = hubDefaultsFromEnv()
  const dir = revisionDir(resolve(options.cacheDir ?? defaultCacheDir()), model, revision)
  logger.debug('Resolving model', { model, revision, dtype, dir })

  if (options.offline ?? env.offline) {
    const found = await inspectModelDir(dir, dtype)
    if (!found.complete) throw missingFilesError(model, 'is not available offline', dir, found.missing)
    reportCached(found.files, onProgress)
    return finish(model, { dir, dtype: found.dtype }, 'cache', logger)
  }

  const cached = await readCompleteManifest(dir, dtype)
  if (cached) {
    reportCached(cached.files, onProgress)
    return finish(model, { dir, dtype: cached.manifest.dtype }, 'cache', logger)
  }

  const hubEndpoint = options.hubEndpoint ?? env.hubEndpoint
  assertHubEndpoint(hubEndpoint)
  const fetched = await downloadModelFiles({
    repo: model,
    revision,
    dtype,
    dir,
    hubEndpoint,
    token: options.token ?? env.token,
    fetch: options.fetch ?? globalThis.fetch,
    signal,
    onProgress,
    logger,
  })
  return finish(model, { dir, dtype: fetched.dtype }, fetched.downloaded ? 'hub' : 'cache', logger)
}

async function localModel(model: string, dtype: ModelDtype): Promise<{ dir: string; dtype: ConcreteDtype }> {
  const dir = resolve(model)
  if (!(await isDirectory(dir))) {
    throw new RerankError('not_found', `Model folder "${model}" does not exist (looked in ${dir})`, {
      param: 'model',
    })
  }
  const found = await inspectModelDir(dir, dtype)
  if (!found.complete) throw missingFilesError(model, 'is incomplete', dir, found.missing)
  return { dir, dtype: found.dtype }
}

function reportCached(files: readonly CachedFile[], onProgress: ProgressListener | undefined) {
  for (const { file, size } of files) onProgress?.({ file, status: 'cached', loaded: size, total: size })
}

async function finish(
  model: string,
  found: { dir: string; dtype: ConcreteDtype },
  source: ResolvedModel['source'],
  logger: Logger,
): Promise<ResolvedModel> {
  const config = await readModelConfig(model, found.dir)
  const onnxPath = pathInDir(found.dir, onnxFileOf(found.dtype))
  logger.debug('Model resolved', { model, dir: found.dir, dtype: found.dtype, source })
  return { dir: found.dir, onnxPath, dtype: found.dtype, source, config }
}
