import type { Logger } from '@rerank-kit/protocol'
import { pathInDir } from './cache-layout'
import type { ProgressListener } from './download-progress'
import { fetchHubFile, type HubFileOutcome } from './hub-download'
import { abortedError, noOnnxFileFound, requiredFileNotFound } from './hub-errors'
import { hubFileUrl } from './hub-repo'
import {
  type ConcreteDtype,
  candidateDtypes,
  externalDataFileOf,
  type ModelDtype,
  onnxFileOf,
} from './model-dtype'
import { optionalModelFiles, requiredModelFiles } from './model-file-names'
import { writeManifest } from './resolved-manifest'
import { joinFlight } from './shared-flight'

export interface HubModelRequest {
  repo: string
  revision: string
  dtype: ModelDtype
  /** The revision's cache folder. */
  dir: string
  hubEndpoint: string
  token?: string | undefined
  fetch: typeof fetch
  signal?: AbortSignal | undefined
  onProgress?: ProgressListener | undefined
  logger: Logger
}

export interface HubModelFiles {
  dtype: ConcreteDtype
  /** False when every file was already in the cache (a resolve interrupted after its last download). */
  downloaded: boolean
}

/**
 * Fetches what the cache folder lacks, one file at a time (a 404 on the small config stops before the large
 * graph), then records the outcome in the folder's manifest so the next resolve needs no request at all.
 */
export async function downloadModelFiles(request: HubModelRequest): Promise<HubModelFiles> {
  const { repo, revision, dir } = request
  const present: string[] = []
  let downloaded = false
  const get = async (file: string): Promise<boolean> => {
    const outcome = await getFile(request, file)
    if (outcome.status === 'missing') return false
    if (outcome.status === 'downloaded') downloaded = true
    present.push(file)
    return true
  }

  for (const file of requiredModelFiles) {
    if (!(await get(file))) throw requiredFileNotFound({ repo, revision, file })
  }
  for (const file of optionalModelFiles) await get(file)

  const candidates = candidateDtypes(request.dtype)
  let chosen: ConcreteDtype | undefined
  for (const candidate of candidates) {
    if (await get(onnxFileOf(candidate))) {
      chosen = candidate
      break
    }
  }
  if (chosen === undefined) {
    const [only] = candidates
    if (candidates.length === 1 && only)
      throw requiredFileNotFound({ repo, revision, file: onnxFileOf(only) })
    throw noOnnxFileFound(repo, revision, candidates.map(onnxFileOf))
  }
  await get(externalDataFileOf(onnxFileOf(chosen)))

  try {
    await writeManifest(dir, request.dtype, { dtype: chosen, files: present })
  } catch (error) {
    // The files are all there and usable; only the next resolve's shortcut is lost (it will ask the hub again).
    request.logger.warn('Could not record the resolved model in the cache', { model: repo, dir, error })
  }
  return { dtype: chosen, downloaded }
}

/** Concurrent resolves in this process that need the same file share one download (keyed by its path). */
function getFile(request: HubModelRequest, file: string): Promise<HubFileOutcome> {
  const { repo, revision } = request
  const destination = pathInDir(request.dir, file)
  const target = {
    repo,
    revision,
    file,
    destination,
    url: hubFileUrl(request.hubEndpoint, repo, revision, file),
  }
  const client = { fetch: request.fetch, token: request.token, logger: request.logger }
  return joinFlight(destination, (signal, emit) => fetchHubFile(target, client, signal, emit), {
    signal: request.signal,
    listener: request.onProgress,
    abortError: () => abortedError(`Resolving model "${repo}"`, request.signal),
  })
}
