import { constants, type Dirent } from 'node:fs'
import { access as fsAccess, readdir, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/**
 * What `serve` checks before it listens, so that a container (or a service) whose model cannot be read, or
 * whose download could not be saved, stops at once with one line naming the path and the reason, rather than
 * after a download or a load with a library's message (`system error number 13`, "missing config.json").
 * Each check throws a ModelAccessError; runCli writes its message as the one line and exits 1.
 */
export class ModelAccessError extends Error {
  override name = 'ModelAccessError'
}

/** fs.promises.access, replaceable in tests (a root user may read and write anything). */
export type AccessCheck = (path: string, mode: number) => Promise<void>

/** The user the process runs as, for messages: `uid 1000`, or nothing where there are no uids (Windows). */
function asUser(): string {
  const uid = process.getuid?.()
  return uid === undefined ? '' : ` as uid ${uid}`
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EROFS') return 'read-only file system'
  if (code === 'ENOENT') return 'it does not exist'
  return error instanceof Error ? error.message : String(error)
}

/**
 * A model folder (RERANKER_MODEL_PATH) exists, is a folder, and the folder and every file in it can be read.
 * A missing file is not this check's business: the model's own check names every missing file.
 */
export async function assertModelFolderReadable(
  folder: string,
  access: AccessCheck = fsAccess,
  setting = 'RERANKER_MODEL_PATH',
): Promise<void> {
  const where = `the model folder ${folder} (${setting})`
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(folder)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ModelAccessError(`${where} does not exist`)
    throw new ModelAccessError(`cannot read ${where}${asUser()}: ${reason(error)}`)
  }
  if (!info.isDirectory()) throw new ModelAccessError(`${where} is not a folder`)
  const readable = async (path: string, mode: number, what: string) => {
    try {
      await access(path, mode)
    } catch (error) {
      throw new ModelAccessError(`cannot read ${what}${asUser()}: ${reason(error)}`)
    }
  }
  await readable(folder, constants.R_OK | constants.X_OK, where)
  const pending = [folder]
  while (pending.length > 0) {
    const dir = pending.pop()!
    let entries: Dirent[]
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (error) {
      throw new ModelAccessError(`cannot read ${dir} (${setting})${asUser()}: ${reason(error)}`)
    }
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        await readable(path, constants.R_OK | constants.X_OK, `${path} (${setting})`)
        pending.push(path)
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        // A dangling link is the model check's "missing file", not a permission problem.
        const target = await stat(path).catch(() => undefined)
        if (target) await readable(path, constants.R_OK, `${path} (${setting})`)
      }
    }
  }
}

/**
 * The model cache (RERANKER_MODEL_CACHE_DIR) can take a download: the folder, or where it would be created,
 * is writable. Called only when a download may be needed (a hub model not yet complete in the cache, not offline).
 */
export async function assertCacheWritable(
  cacheDir: string,
  access: AccessCheck = fsAccess,
  setting = 'RERANKER_MODEL_CACHE_DIR',
): Promise<void> {
  // The folder itself, else its nearest existing parent (where it would be created).
  let existing = cacheDir
  for (;;) {
    const info = await stat(existing).catch(() => undefined)
    if (info) {
      if (!info.isDirectory()) {
        throw new ModelAccessError(
          `cannot write the model cache ${cacheDir} (${setting}): ${existing} is not a folder`,
        )
      }
      break
    }
    const parent = dirname(existing)
    if (parent === existing) break
    existing = parent
  }
  try {
    await access(existing, constants.W_OK | constants.X_OK)
  } catch (error) {
    const at = existing === cacheDir ? '' : ` (at ${existing})`
    throw new ModelAccessError(
      `cannot write the model cache ${cacheDir} (${setting})${asUser()}${at}: ${reason(error)}; mount a folder this user can write there, or download the model ahead (rerank-kit download) and set RERANKER_USE_OFFLINE_MODE=true`,
    )
  }
}
