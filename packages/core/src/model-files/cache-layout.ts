import { homedir } from 'node:os'
import { join } from 'node:path'

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

/** Default cache: `~/.cache/rerank-kit/models`, our own so the layout never mixes with huggingface_hub's. */
export function defaultCacheDir(): string {
  return join(homedir(), '.cache', 'rerank-kit', 'models')
}

/** A repo-relative `/`-separated path inside a model folder, with the platform's separators. */
export function pathInDir(dir: string, file: string): string {
  return join(dir, ...file.split('/'))
}
