import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileSize, writeFileAtomic } from './atomic-file'
import { pathInDir } from './cache-layout'
import { type ConcreteDtype, isModelDtype, type ModelDtype } from './model-dtype'

/**
 * Written into a cached revision folder after a complete resolve of one requested dtype: which dtype it
 * settled on and which files the hub had. It is what lets a second resolve skip the network entirely even
 * when optional files were absent (their 404 is remembered) or `auto` had to probe.
 */
export interface ResolvedManifest {
  dtype: ConcreteDtype
  files: string[]
}

export interface CachedFile {
  file: string
  size: number
}

function manifestPath(dir: string, requested: ModelDtype): string {
  return join(dir, `.resolved-${requested}.json`)
}

export async function writeManifest(dir: string, requested: ModelDtype, manifest: ResolvedManifest) {
  await writeFileAtomic(manifestPath(dir, requested), `${JSON.stringify(manifest, null, 2)}\n`)
}

/**
 * The manifest of an earlier complete resolve, with the size of each file, or undefined when there is none,
 * it is unreadable, or any file it lists has gone (then the caller falls back to the hub, fetching only those).
 */
export async function readCompleteManifest(
  dir: string,
  requested: ModelDtype,
): Promise<{ manifest: ResolvedManifest; files: CachedFile[] } | undefined> {
  let manifest: ResolvedManifest
  try {
    manifest = parseManifest(JSON.parse(await readFile(manifestPath(dir, requested), 'utf8')))
  } catch {
    return undefined
  }
  const files: CachedFile[] = []
  for (const file of manifest.files) {
    const size = await fileSize(pathInDir(dir, file))
    if (size === undefined) return undefined
    files.push({ file, size })
  }
  return { manifest, files }
}

function parseManifest(value: unknown): ResolvedManifest {
  const { dtype, files } = (value ?? {}) as { dtype?: unknown; files?: unknown }
  const safeFile = (file: unknown) =>
    typeof file === 'string' && file !== '' && !file.split('/').some((part) => part === '..' || part === '')
  if (!isModelDtype(dtype) || dtype === 'auto' || !Array.isArray(files) || !files.every(safeFile)) {
    throw new Error('Not a resolved-model manifest')
  }
  return { dtype, files: files as string[] }
}
