import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

export interface CachedModel {
  /** Hub id, `org/name`. */
  repo: string
  revision: string
  dir: string
  /** Repo-relative files, `/`-separated, without core's hidden manifests and partial downloads. */
  files: { file: string; size: number }[]
  size: number
  /** The ONNX exports present: fp32, fp16, q8. */
  dtypes: string[]
  /** A resolve finished here (core wrote its manifest): loads offline. */
  complete: boolean
}

/**
 * Every revision in a cache folder, read from core's layout (`models--{org}--{name}/revisions/{revision}/`,
 * see revisionDir), sorted by repo then revision. A missing folder holds none.
 */
export async function listCachedModels(cacheDir: string): Promise<CachedModel[]> {
  // Imported when used: the CLI loads core (and its model runtime) only for commands that need it.
  const { autoDtypeOrder, onnxFileOf, revisionDir } = await import('@rerank-kit/core')
  // core's dtype -> file table, read backwards.
  const dtypeOfFile = new Map(autoDtypeOrder.map((dtype) => [onnxFileOf(dtype), dtype as string]))
  const models: CachedModel[] = []
  for (const repoFolder of await folders(cacheDir)) {
    if (!repoFolder.startsWith('models--')) continue
    // Hub ids never contain `--`, so the first one (if any) separates org and name.
    const repo = repoFolder.slice('models--'.length).replace('--', '/')
    for (const revisionFolder of await folders(join(cacheDir, repoFolder, 'revisions'))) {
      const revision = decodeURIComponent(revisionFolder)
      const dir = revisionDir(cacheDir, repo, revision)
      const entries = await readdir(dir, { recursive: true, withFileTypes: true })
      const files: CachedModel['files'] = []
      let complete = false
      for (const entry of entries) {
        if (!entry.isFile()) continue
        const path = join(entry.parentPath, entry.name)
        const file = path
          .slice(dir.length + 1)
          .split(/[\\/]/)
          .join('/')
        if (/^\.resolved-.*\.json$/.test(file)) complete = true
        if (file.split('/').some((part) => part.startsWith('.'))) continue
        files.push({ file, size: (await stat(path)).size })
      }
      files.sort((a, b) => a.file.localeCompare(b.file))
      models.push({
        repo,
        revision,
        dir,
        files,
        size: files.reduce((sum, { size }) => sum + size, 0),
        dtypes: files.flatMap(({ file }) => dtypeOfFile.get(file) ?? []),
        complete,
      })
    }
  }
  return models.sort((a, b) => a.repo.localeCompare(b.repo) || a.revision.localeCompare(b.revision))
}

async function folders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true })
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}
