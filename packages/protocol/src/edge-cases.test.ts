import { describe, expect, it } from 'vitest'
import { RerankError } from './errors/rerank-error'
import type { RerankFormatName } from './formats/format'
import { rerankFormats } from './formats/index'
import { isJsonContentType, parseJsonBody } from './http/json-body'
import { checkRequestLimits, modelNotFound } from './request-limits'
import { rankScores } from './rerank-response'

// The edge cases at the end of api-formats.md, settled once for every request family. The decisions are
// documented in packages/protocol/README.md ("Edge cases").

interface Family {
  name: RerankFormatName
  /** The family's name for the document list, and for its alias. */
  docs: string
  alias: string
  /** The family's name for top_n, if it has one. */
  top?: string
  rankFields: boolean
}

const families: Family[] = [
  { name: 'native', docs: 'documents', alias: 'texts', top: 'top_n', rankFields: true },
  { name: 'cohere', docs: 'documents', alias: 'texts', top: 'top_n', rankFields: true },
  { name: 'cohere-v2', docs: 'documents', alias: 'texts', top: 'top_n', rankFields: true },
  { name: 'jina', docs: 'documents', alias: 'texts', top: 'top_n', rankFields: false },
  { name: 'tei', docs: 'texts', alias: 'documents', rankFields: false },
  { name: 'infinity', docs: 'documents', alias: 'texts', top: 'top_n', rankFields: false },
  { name: 'voyage', docs: 'documents', alias: 'texts', top: 'top_k', rankFields: false },
  { name: 'mixedbread', docs: 'input', alias: 'documents', top: 'top_k', rankFields: true },
]

function rejection(run: () => unknown): RerankError {
  try {
    run()
  } catch (error) {
    if (RerankError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected a RerankError, but the call succeeded')
}

describe.each(families)('$name requests', (family) => {
  const format = rerankFormats[family.name]
  const body = (extra: Record<string, unknown> = {}) => ({
    query: 'q',
    [family.docs]: ['a', 'b', 'c'],
    ...extra,
  })

  it('empty documents: 400 naming the field', () => {
    const error = rejection(() => format.parseRequest(body({ [family.docs]: [] })))
    expect(error.code).toBe('invalid_request')
    expect(error.status).toBe(400)
    expect(error.param).toBe(family.docs)
    expect(error.message).toBe(`Invalid request: ${family.docs} must not be empty`)
  })

  it('missing documents: 400', () => {
    const error = rejection(() => format.parseRequest({ query: 'q' }))
    expect(error.status).toBe(400)
    expect(error.message).toBe(`Invalid request: ${family.docs} is required`)
  })

  it('empty or blank query: 400 naming the query', () => {
    for (const query of ['', '   \n']) {
      const error = rejection(() => format.parseRequest(body({ query })))
      expect(error.status).toBe(400)
      expect(error.param).toBe('query')
    }
    expect(rejection(() => format.parseRequest({ [family.docs]: ['a'] })).param).toBe('query')
    expect(rejection(() => format.parseRequest(body({ query: 7 }))).message).toBe(
      'Invalid request: query: expected a string',
    )
  })

  // Only the checks that apply to a family are defined for it, so nothing is reported as skipped.
  const top = family.top
  if (top !== undefined) {
    it(`${top} 0, negative or fractional: 400; larger than the list: all`, () => {
      for (const value of [0, -1, 1.5, '2', true]) {
        const error = rejection(() => format.parseRequest(body({ [top]: value })))
        expect(error.status, String(value)).toBe(400)
        expect(error.param).toBe(top)
        expect(error.message).toBe(`Invalid request: ${top}: expected an integer >= 1`)
      }
      expect(format.parseRequest(body({ [top]: 50 })).topN).toBe(3)
      expect(format.parseRequest(body({ [top]: 2 })).topN).toBe(2)
      expect(format.parseRequest(body({ [top]: null })).topN).toBeUndefined()
    })
  } else {
    it('has no top_n: the field is ignored like any unknown field', () => {
      expect(format.parseRequest(body({ top_n: 0 })).topN).toBeUndefined()
    })
  }

  it('both the document list and its alias: 400, never a silent pick', () => {
    const error = rejection(() => format.parseRequest(body({ [family.alias]: ['x'] })))
    expect(error.status).toBe(400)
    expect(error.message).toBe(`Invalid request: send either ${family.docs} or ${family.alias}, not both`)
    // The alias alone is read.
    expect(format.parseRequest({ query: 'q', [family.alias]: ['x', 'y'] }).documents).toEqual(['x', 'y'])
  })

  it('object documents without text: 400 naming the document', () => {
    const error = rejection(() => format.parseRequest(body({ [family.docs]: ['a', { title: 'no text' }] })))
    expect(error.status).toBe(400)
    expect(error.param).toBe(`${family.docs}.1`)
    const wrongType = rejection(() => format.parseRequest(body({ [family.docs]: [{ text: 5 }] })))
    expect(wrongType.param).toBe(`${family.docs}.0`)
    const notADocument = rejection(() => format.parseRequest(body({ [family.docs]: ['a', 42] })))
    expect(notADocument.param).toBe(`${family.docs}.1`)
    expect(notADocument.message).toBe(
      `Invalid request: ${family.docs}.1: expected a string or an object with a text field`,
    )
  })

  it('image documents: 400 saying images are not supported', () => {
    const error = rejection(() =>
      format.parseRequest(body({ [family.docs]: [{ image: 'https://x/y.png' }] })),
    )
    expect(error.message).toBe(
      `Invalid request: ${family.docs}.0: image documents are not supported, send text`,
    )
  })

  if (family.rankFields) {
    it('rank_fields make object documents without text valid', () => {
      const documents = [{ title: 'T', body: 'B' }, 'plain', { body: 'only body' }]
      const request = format.parseRequest(body({ [family.docs]: documents, rank_fields: ['title', 'body'] }))
      expect(request.rankFields).toEqual(['title', 'body'])
      expect(request.documents).toEqual(documents)
      const error = rejection(() =>
        format.parseRequest(body({ [family.docs]: [{ other: 1 }], rank_fields: ['title', 'body'] })),
      )
      expect(error.message).toBe(
        `Invalid request: ${family.docs}.0 has none of the rank_fields (title, body)`,
      )
    })
  }

  it('mixed string and object lists are accepted in order', () => {
    const documents = ['plain', { text: 'object', id: 7, tags: ['x'] }, 'third']
    expect(format.parseRequest(body({ [family.docs]: documents })).documents).toEqual(documents)
  })

  it('duplicate documents are kept, each at its own index', () => {
    expect(format.parseRequest(body({ [family.docs]: ['same', 'same', 'other', 'same'] })).documents).toEqual(
      ['same', 'same', 'other', 'same'],
    )
  })

  it('very long queries and documents pass the parser unchanged (limits are separate)', () => {
    const long = 'word '.repeat(200_000)
    const request = format.parseRequest(body({ query: long, [family.docs]: [long, 'short'] }))
    expect(request.query.length).toBe(1_000_000)
    expect(request.documents[0]).toBe(long)
  })

  it('unknown fields are ignored, null optional fields read as absent', () => {
    const request = format.parseRequest(
      body({ unknown_field: { deep: [1, 2] }, another: null, return_documents: null, model: null }),
    )
    expect(request).not.toHaveProperty('unknown_field')
    expect(request).not.toHaveProperty('another')
    expect(request.model).toBeUndefined()
  })

  it('control characters are kept, lone surrogates become U+FFFD', () => {
    const request = format.parseRequest(
      JSON.parse(`{"query":"a\\u0000b\\u001f","${family.docs}":["x\\ud800y","ok \\ud83d\\ude00"]}`),
    )
    expect(request.query).toBe('a\u0000b\u001f')
    expect(request.documents).toEqual(['x\uFFFDy', 'ok \u{1F600}'])
  })

  it('a non-object body: 400 saying a JSON object is expected', () => {
    for (const value of [null, [], 'text', 3, true]) {
      const error = rejection(() => format.parseRequest(value))
      expect(error.status).toBe(400)
      expect(error.message).toBe('Invalid request: the body must be a JSON object')
    }
  })

  it('a "__proto__" key in a document never becomes a prototype', () => {
    const parsed = JSON.parse(`{"query":"q","${family.docs}":[{"text":"t","__proto__":{"polluted":true}}]}`)
    const document = format.parseRequest(parsed).documents[0] as Record<string, unknown>
    expect(Object.getPrototypeOf(document)).toBe(Object.prototype)
    expect(document.polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('edge cases settled outside the format parsers', () => {
  it('duplicate documents with equal scores keep a stable order (ties by index)', () => {
    const results = rankScores({ documents: ['same', 'same', 'other', 'same'] }, [0.5, 0.5, 0.9, 0.5])
    expect(results.map((result) => result.index)).toEqual([2, 0, 1, 3])
  })

  it('wrong content type: only JSON media types are accepted', () => {
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/vnd.api+json',
    ]) {
      expect(isJsonContentType(type), type).toBe(true)
    }
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      '',
      undefined,
      'json',
    ]) {
      expect(isJsonContentType(type), String(type)).toBe(false)
    }
  })

  it('body over the size limit: 413 before decoding', () => {
    const error = rejection(() => parseJsonBody(new Uint8Array(2048).fill(0x20), { maxBytes: 1024 }))
    expect(error.code).toBe('payload_too_large')
    expect(error.status).toBe(413)
    expect(error.message).toBe('Request body is 2048 bytes, over the limit of 1024')
  })

  it('non-UTF-8 bytes: 400, not silently replaced', () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x71, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])
    const error = rejection(() => parseJsonBody(bytes))
    expect(error.status).toBe(400)
    expect(error.message).toBe('Request body is not valid UTF-8')
  })

  it('more documents than the per-request limit, or over-long inputs: 413 naming the limit', () => {
    const request = { query: 'q', documents: ['a', 'b', 'c'] }
    const tooMany = rejection(() => checkRequestLimits(request, { maxDocuments: 2 }))
    expect(tooMany.status).toBe(413)
    expect(tooMany.message).toBe('Too many documents: 3, the limit is 2 per request')
    expect(rejection(() => checkRequestLimits(request, { maxQueryLength: 0 })).param).toBe('query')
    expect(
      rejection(() =>
        checkRequestLimits({ query: 'q', documents: ['ok', 'too long'] }, { maxDocumentLength: 4 }),
      ).param,
    ).toBe('documents.1')
    expect(() =>
      checkRequestLimits(request, { maxDocuments: 3, maxQueryLength: 1, maxDocumentLength: 1 }),
    ).not.toThrow()
  })

  it('a model the server does not serve: 404 listing the served models', () => {
    const error = modelNotFound('bge-large', ['ms-marco-minilm', 'bge-v2-m3'])
    expect(error.code).toBe('model_not_found')
    expect(error.status).toBe(404)
    expect(error.message).toBe(
      'Model "bge-large" is not served here. Served models: ms-marco-minilm, bge-v2-m3',
    )
  })
})
