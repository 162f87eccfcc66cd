import { mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Logger } from '@rerank-kit/protocol'
import { RerankError } from '@rerank-kit/protocol'
import { fileSize, tempPathFor } from './atomic-file'
import { type DownloadProgress, progressThrottle } from './download-progress'
import {
  abortedError,
  cacheWriteError,
  connectionError,
  type HubFileRef,
  hubStatusError,
  interruptedError,
} from './hub-errors'

export interface HubFileTarget extends HubFileRef {
  url: string
  /** Absolute final path in the cache. */
  destination: string
}

export interface HubClient {
  fetch: typeof fetch
  token?: string | undefined
  logger: Logger
}

/** `missing`: the hub answered 404; whether that is an error is the caller's call (optional files). */
export type HubFileOutcome = { status: 'cached' | 'downloaded'; size: number } | { status: 'missing' }

const progressIntervalMs = 100

/**
 * Makes one hub file present at `target.destination`: nothing to do when it already is, otherwise streams it
 * to a temp file beside it, checks the byte count, and renames it into place. On any failure the temp file is
 * removed before this rejects, so the final name only ever holds a complete file.
 */
export async function fetchHubFile(
  target: HubFileTarget,
  client: HubClient,
  signal: AbortSignal,
  emit: (event: DownloadProgress) => void,
): Promise<HubFileOutcome> {
  const { file, destination } = target
  const existing = await fileSize(destination)
  if (existing !== undefined) {
    emit({ file, status: 'cached', loaded: existing, total: existing })
    return { status: 'cached', size: existing }
  }

  const response = await request(target, client, signal)
  if (response.status === 404) {
    await response.body?.cancel().catch(() => {})
    return { status: 'missing' }
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {})
    throw hubStatusError(target, response, Boolean(client.token))
  }

  const total = announcedLength(response)
  const started = performance.now()
  client.logger.info('Downloading model file', {
    model: target.repo,
    revision: target.revision,
    file,
    bytes: total,
  })
  emit({ file, status: 'start', loaded: 0, ...(total === undefined ? {} : { total }) })

  const temp = tempPathFor(destination)
  let loaded = 0
  try {
    await mkdir(dirname(destination), { recursive: true })
    const shouldReport = progressThrottle(progressIntervalMs)
    loaded = await writeBody(response, temp, (bytes) => {
      loaded = bytes
      if (shouldReport(bytes, total))
        emit({ file, status: 'progress', loaded: bytes, ...(total === undefined ? {} : { total }) })
    })
    if (total !== undefined && loaded !== total) throw interruptedError(target, loaded, total)
    await rename(temp, destination)
  } catch (error) {
    // Best effort: a failing cleanup must not hide the error that caused it.
    await rm(temp, { force: true }).catch(() => {})
    if (signal.aborted) throw abortedError(`Download of ${file} of "${target.repo}"`, signal)
    if (RerankError.isInstance(error)) throw error
    // Node's fs errors carry the failed system call; what the body stream throws does not.
    if (typeof error === 'object' && error !== null && 'syscall' in error)
      throw cacheWriteError(target, temp, error)
    throw interruptedError(target, loaded, total, error)
  }

  client.logger.info('Downloaded model file', {
    model: target.repo,
    file,
    bytes: loaded,
    ms: Math.round(performance.now() - started),
  })
  emit({ file, status: 'done', loaded, total: loaded })
  return { status: 'downloaded', size: loaded }
}

async function request(target: HubFileTarget, client: HubClient, signal: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = {}
  // fetch drops Authorization on a cross-origin redirect (the hub sends large files to a signed CDN URL).
  if (client.token) headers.authorization = `Bearer ${client.token}`
  try {
    return await client.fetch(target.url, { headers, signal, redirect: 'follow' })
  } catch (error) {
    if (signal.aborted) throw abortedError(`Download of ${target.file} of "${target.repo}"`, signal)
    throw connectionError(target, target.url, error)
  }
}

/**
 * content-length counts the bytes on the wire: with a content-encoding fetch hands us more after decoding, so
 * the length is only a promise about our byte count when the body is not encoded.
 */
function announcedLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding')
  if (encoding && encoding.toLowerCase() !== 'identity') return undefined
  const header = response.headers.get('content-length')
  if (!header || !/^\d+$/.test(header)) return undefined
  return Number(header)
}

async function writeBody(
  response: Response,
  path: string,
  onBytes: (loaded: number) => void,
): Promise<number> {
  const handle = await open(path, 'wx')
  let loaded = 0
  try {
    if (response.body) {
      for await (const chunk of response.body) {
        await handle.write(chunk)
        loaded += chunk.byteLength
        onBytes(loaded)
      }
    }
  } finally {
    await handle.close()
  }
  return loaded
}
