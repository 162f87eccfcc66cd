import { RerankError } from '@rerank-kit/protocol'
import type { PlainRequest } from './handler-types'
import { headerValue } from './request-headers'

/** LiteLLM's header for request tags: `x-litellm-tags: paid,eu`. */
export const tagsHeader = 'x-litellm-tags'

const maxTags = 64
const maxTagLength = 256

/**
 * A request's tags, as LiteLLM's tag routing reads them: `tags` in the body, `metadata.tags` in the body, and
 * the `x-litellm-tags` header, together (each tag once). Undefined when the request has none: the common case
 * costs two property reads and a header lookup. A malformed list is the caller's error, named by its key.
 */
export function requestTags(body: unknown, headers: PlainRequest['headers']): string[] | undefined {
  let tags: string[] | undefined
  const add = (list: readonly string[]) => {
    tags = [...new Set([...(tags ?? []), ...list])]
  }
  if (typeof body === 'object' && body !== null) {
    const { tags: own, metadata } = body as { tags?: unknown; metadata?: unknown }
    if (own !== undefined && own !== null) add(tagList(own, 'tags'))
    if (typeof metadata === 'object' && metadata !== null) {
      const nested = (metadata as { tags?: unknown }).tags
      if (nested !== undefined && nested !== null) add(tagList(nested, 'metadata.tags'))
    }
  }
  const header = headerValue(headers, tagsHeader)
  if (header !== undefined && header.trim() !== '') {
    add(
      tagList(
        header
          .split(',')
          .map((tag) => tag.trim())
          .filter((tag) => tag !== ''),
        tagsHeader,
      ),
    )
  }
  if (tags !== undefined && tags.length > maxTags) {
    throw new RerankError('invalid_request', `A request may carry at most ${maxTags} tags`, { param: 'tags' })
  }
  return tags
}

function tagList(value: unknown, param: string): string[] {
  if (!Array.isArray(value) || !value.every((tag) => typeof tag === 'string' && tag !== '')) {
    throw new RerankError('invalid_request', `${param} must be a list of non-empty strings`, { param })
  }
  if (value.some((tag: string) => tag.length > maxTagLength)) {
    throw new RerankError('invalid_request', `A tag is at most ${maxTagLength} characters`, { param })
  }
  return value
}
