import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import type { EnvLookup } from './hub-env'

/**
 * Cache layout: one folder per repo and revision, usable as-is as a model folder (by us or by transformers.js):
 *
 *   {cacheDir}/models--{org}--{name}/revisions/{percent-encoded revision}/
 *     config.json  tokenizer.json  tokenizer_config.json  [special_tokens_map.json]
 *     onnx/model.onnx  [onnx/model.onnx_data]  onnx/model_quantized.onnx ...
 *     .resolved-{dtype}.json   written after a complete resolve of that dtype (see resolved-manifest.ts)
 *
 * A branch or tag is cached under its name and not re-checked against the hub, so a cached model resolves
 * with zero requests: pin a commit for reproducible builds, delete the folder to pick up a newer branch head.
 * Unlike huggingface_hub's blobs/snapshots layout there are no symlinks (they need extra rights on Windows)
 * and no request to map a branch to its commit.
 */
export function revisionDir(cacheDir: string, repo: string, revision: string): string {
  return join(cacheDir, `models--${repo.replace('/', '--')}`, 'revisions', encodeURIComponent(revision))
}

/**
 * The default cache, one for the libraries and the CLI: `RERANKER_MODEL_CACHE_DIR` (or `RERANKER_MODEL_DIR`) when
 * set, else `$XDG_CACHE_HOME/rerank-kit/models`, else `~/.cache/rerank-kit/models`. Our own folder, so the layout
 * never mixes with huggingface_hub's. A relative XDG_CACHE_HOME is ignored, as the XDG spec asks.
 */
export function defaultCacheDir(env: EnvLookup = process.env): string {
  const value = (name: string) => env[name]?.trim() || undefined
  const chosen = value('RERANKER_MODEL_CACHE_DIR') ?? value('RERANKER_MODEL_DIR')
  if (chosen !== undefined) return resolve(chosen)
  const xdg = value('XDG_CACHE_HOME')
  const cacheHome = xdg !== undefined && isAbsolute(xdg) ? xdg : join(value('HOME') ?? homedir(), '.cache')
  return join(cacheHome, 'rerank-kit', 'models')
}

/** A repo-relative `/`-separated path inside a model folder, with the platform's separators. */
export function pathInDir(dir: string, file: string): string {
  return join(dir, ...file.split('/'))
}
