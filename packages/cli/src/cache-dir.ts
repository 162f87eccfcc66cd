import { resolve } from 'node:path'
import type { CliIo } from './cli-io'
import { loadSettings, type Settings } from './settings'

/**
 * The cache folder of the settings: RERANKER_MODEL_CACHE_DIR (flag, environment or `.env`), else the default
 * that the libraries use too (XDG), so the CLI and a LocalReranker in an app share their downloads.
 */
export async function modelCacheDir(settings: Settings, io: CliIo): Promise<string> {
  if (settings.modelCacheDir !== undefined) return resolve(io.cwd, settings.modelCacheDir)
  // Imported when used: core loads transformers.js, which `--help` and load-balancer mode do not need.
  const { defaultCacheDir } = await import('@rerank-kit/core')
  return defaultCacheDir(io.env)
}

/** The cache folder a command uses: its `--dir` flag, else serve's (above), so every command agrees. */
export async function cacheDirOf(dirFlag: string | undefined, io: CliIo): Promise<string> {
  if (dirFlag !== undefined) return resolve(io.cwd, dirFlag)
  return modelCacheDir(loadSettings(io.env, [], resolve(io.cwd, '.env')), io)
}
