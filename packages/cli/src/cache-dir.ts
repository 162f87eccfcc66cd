import { resolve } from 'node:path'
import type { CliIo } from './cli-io'
import { loadSettings } from './settings'

/**
 * The cache folder a command uses: its `--dir` flag, else serve's RERANKER_MODEL_CACHE_DIR (environment or
 * `.env`, default `./models`), so `download`, `models`, `check` and `serve` agree without repeating it.
 */
export function cacheDirOf(dirFlag: string | undefined, io: CliIo): string {
  const dir = dirFlag ?? loadSettings(io.env, [], resolve(io.cwd, '.env')).modelCacheDir
  return resolve(io.cwd, dir)
}
