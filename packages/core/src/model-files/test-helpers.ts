import { mkdtemp, readdir, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '@rerank-kit/protocol'
import { vi } from 'vitest'
import type { DownloadProgress } from './download-progress'

/** A model repo's files with small dummy bytes; `tag` makes revisions and dtypes tell apart by content. */
export function tinyModelFiles(tag = 'main'): Record<string, string> {
  return {
    'config.json': JSON.stringify({ model_type: 'bert', num_labels: 1, tag }),
    'tokenizer_config.json': JSON.stringify({ tokenizer_class: 'BertTokenizer' }),
    'tokenizer.json': JSON.stringify({ version: '1.0', model: { type: 'WordPiece' } }),
    'onnx/model.onnx': `fp32 graph ${tag} `.repeat(8),
  }
}

export async function makeTempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  // realpath: on macOS the temp folder is behind a symlink, and resolved model folders are compared to it.
  const path = await realpath(await mkdtemp(join(tmpdir(), prefix)))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** Every file under a folder, relative, `/`-separated, sorted (hidden temp files included). */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true })
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) =>
        join(entry.parentPath, entry.name)
          .slice(dir.length + 1)
          .split('\\')
          .join('/'),
      )
      .sort()
  } catch {
    return []
  }
}

/** Keeps every event; `of(file)` gives one file's events in order. */
export function progressRecorder() {
  const events: DownloadProgress[] = []
  return {
    events,
    listener: (event: DownloadProgress) => events.push(event),
    of: (file: string) => events.filter((event) => event.file === file),
  }
}

/** A logger that keeps every line, to assert what is (and is not) logged. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`)
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') }
}

/** Tests must not pick up the machine's HF_* settings (a real token, offline mode, a mirror). */
export function clearHubEnv(): void {
  vi.stubEnv('HF_TOKEN', '')
  vi.stubEnv('HF_HUB_OFFLINE', '')
  vi.stubEnv('HF_ENDPOINT', '')
}

/** Everything an error exposes when logged or serialised. */
export function everythingIn(error: unknown): string {
  const e = error as Error & { cause?: unknown }
  return [e.message, e.stack, JSON.stringify(e), String(e.cause), JSON.stringify(e.cause ?? null)].join('\n')
}
