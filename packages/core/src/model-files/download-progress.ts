import type { Logger } from '@rerank-kit/protocol'

/**
 * One event per step of getting one file. `cached`: already on disk, nothing fetched. `start`: the hub
 * answered (total is its content-length when known). `progress`: bytes written so far. `done`: renamed into
 * place.
 */
export interface DownloadProgress {
  /** Repo-relative path, e.g. `onnx/model.onnx`. */
  file: string
  status: 'cached' | 'start' | 'progress' | 'done'
  loaded: number
  total?: number
}

export type ProgressListener = (event: DownloadProgress) => void

/** A caller's listener that throws must not break a download other callers share: log and go on. */
export function guardedListener(listener: ProgressListener, logger: Logger): ProgressListener {
  return (event) => {
    try {
      listener(event)
    } catch (error) {
      logger.warn('onProgress listener threw; ignored', { file: event.file, error })
    }
  }
}

/**
 * `progress` events at most every `intervalMs` (a large model arrives in thousands of chunks), but always the
 * first chunk and the one that completes a known total.
 */
export function progressThrottle(intervalMs: number): (loaded: number, total: number | undefined) => boolean {
  let last = Number.NEGATIVE_INFINITY
  return (loaded, total) => {
    const now = performance.now()
    if (loaded !== total && now - last < intervalMs) return false
    last = now
    return true
  }
}
