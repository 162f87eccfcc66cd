import { RerankError } from '@rerank-kit/protocol'

// The hub's own rules (huggingface_hub's validate_repo_id): `name` or `org/name`, letters, digits, `-_.`,
// no `--` or `..`, at most 96 characters. Holding ids to them also keeps them safe as cache folder names.
const repoIdPattern = /^(?:[\w.-]+\/)?[\w.-]+$/

export function assertRepoId(model: string): void {
  if (!repoIdPattern.test(model) || model.includes('--') || model.includes('..') || model.length > 96) {
    throw new RerankError(
      'invalid_request',
      `Model "${model}" is neither an existing folder nor a hub id like "org/name"`,
      { param: 'model' },
    )
  }
}

/**
 * A revision is a branch, tag or commit. Branches may contain `/` (`refs/pr/1`): it is percent-encoded both in
 * the URL and in the cache path, so `.` and `..` are the only values that could escape a folder.
 */
export function assertRevision(revision: string): void {
  if (
    !revision ||
    revision === '.' ||
    revision === '..' ||
    revision.length > 255 ||
    /\p{Cc}/u.test(revision)
  ) {
    throw new RerankError('invalid_request', `Invalid revision "${revision}"`, { param: 'revision' })
  }
}

export function assertHubEndpoint(endpoint: string): void {
  let protocol: string | undefined
  try {
    protocol = new URL(endpoint).protocol
  } catch {}
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new RerankError('invalid_request', `Invalid hub endpoint "${endpoint}"`, { param: 'hubEndpoint' })
  }
}

/** `{hubEndpoint}/{repo}/resolve/{revision}/{path}`; an endpoint with a path prefix (a mirror) keeps it. */
export function hubFileUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/')
  return `${endpoint.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`
}
