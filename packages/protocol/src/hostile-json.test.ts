import { describe, expect, it } from 'vitest'
import { maxDocumentDepth, parseRerankRequest } from './canonical-request'
import { RerankError } from './errors/rerank-error'
import { rerankFormats } from './formats/index'
import { isJsonContentType, parseJsonBody } from './http/json-body'

// Input built to hurt the parser or what comes after it: charsets the body is not decoded in, and documents
// nested deep enough to overflow every recursive step downstream (echo, rank_fields rendering, a client's
// JSON.stringify when the router forwards the request).

function rejection(run: () => unknown): RerankError {
  try {
    run()
  } catch (error) {
    if (RerankError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected a RerankError, but the call succeeded')
}

/** A document object whose deepest value is `depth` levels down, counting the document itself as 1. */
function documentOfDepth(depth: number): Record<string, unknown> {
  let value: unknown = 'leaf'
  for (let level = depth; level > 1; level--) value = level % 2 === 0 ? [value] : { inner: value }
  return { text: 'Paris', meta: value }
}

describe('isJsonContentType and charsets', () => {
  it('accepts JSON declared as UTF-8 (or with no charset), in any spelling', () => {
    for (const type of [
      'application/json;charset=UTF-8',
      'application/json; charset="utf-8"',
      'application/json; charset=utf8',
      'APPLICATION/JSON; CHARSET=UTF-8',
      'application/json; foo=bar; charset=utf-8',
      'application/problem+json; charset=utf-8',
    ]) {
      expect(isJsonContentType(type), type).toBe(true)
    }
  })

  it('refuses JSON declared in another charset: the body would be decoded as what it says it is not', () => {
    for (const type of [
      'application/json; charset=latin1',
      'application/json; charset=ISO-8859-1',
      'application/json; charset=utf-16',
      'application/json; charset="windows-1252"',
      'application/json; charset=',
      'application/vnd.api+json; charset=utf-32',
    ]) {
      expect(isJsonContentType(type), type).toBe(false)
    }
  })

  it('refuses look-alike media types', () => {
    for (const type of [
      'application/jsonx',
      'application/json-seq',
      'text/json',
      'application/+json',
      '*/*',
    ]) {
      expect(isJsonContentType(type), type).toBe(false)
    }
  })
})

describe('documents nested too deep', () => {
  it('are refused by every family with a 400 naming the document; the limit itself is accepted', () => {
    for (const [name, format] of Object.entries(rerankFormats)) {
      const list = name === 'tei' ? 'texts' : name === 'mixedbread' ? 'input' : 'documents'
      const deep = { query: 'q', [list]: ['fine', documentOfDepth(maxDocumentDepth + 1)] }
      // TEI, Infinity and Voyage take strings only: their schemas refuse any object before depth matters.
      const error = rejection(() => format.parseRequest(deep))
      expect(error.status, name).toBe(400)
      if (!['tei', 'infinity', 'voyage'].includes(name)) {
        expect(error.message, name).toBe(`Invalid request: ${list}.1 nests deeper than 64 levels`)
        expect(error.param, name).toBe(`${list}.1`)
        const atLimit = { query: 'q', [list]: [documentOfDepth(maxDocumentDepth)] }
        expect(format.parseRequest(atLimit).documents[0], name).toEqual(documentOfDepth(maxDocumentDepth))
      }
    }
  })

  it('a document 100,000 levels deep is refused without overflowing the stack, and so is a cycle', () => {
    const depth = 100_000
    const body = parseJsonBody(
      `{"query":"q","documents":[{"text":"a","x":${'['.repeat(depth)}${']'.repeat(depth)}}]}`,
    )
    expect(rejection(() => rerankFormats.native.parseRequest(body)).message).toBe(
      'Invalid request: documents.0 nests deeper than 64 levels',
    )
    // Built in code, a document can even contain itself: refused, where echoing it would never end.
    const cyclic: Record<string, unknown> = { text: 'a' }
    cyclic.self = cyclic
    cyclic.again = cyclic
    expect(rejection(() => parseRerankRequest({ query: 'q', documents: [cyclic] })).param).toBe('documents.0')
  })

  it('wide documents are not deep ones', () => {
    const wide = {
      text: 'a',
      fields: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${i}`, [i]])),
    }
    expect(parseRerankRequest({ query: 'q', documents: [wide] }).documents[0]).toEqual(wide)
  })
})
