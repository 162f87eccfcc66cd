import { describe, expect, it } from 'vitest'
import { rerankOpenApiDocument } from './openapi'

describe('rerankOpenApiDocument', () => {
  it('puts the mount point in front of every path, a trailing slash or not', () => {
    for (const prefix of ['/reranker', '/reranker/']) {
      const paths = Object.keys(rerankOpenApiDocument({ prefix }).paths)
      expect(paths).toContain('/reranker/v1/rerank')
      expect(paths).toContain('/reranker/docs')
      expect(paths.filter((path) => !path.startsWith('/reranker/'))).toEqual([])
    }
    expect(Object.keys(rerankOpenApiDocument().paths)).toContain('/rerank')
  })
})
