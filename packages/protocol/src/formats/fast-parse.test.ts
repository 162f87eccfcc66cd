import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type * as z from 'zod'
import { rerankRequestSchema } from '../canonical-request'
import { fastCheckOf, fastParse, undecided } from './fast-parse'
import { rerankFormats } from './index'

// Every wire request schema, plus the canonical one engines validate programmatic requests with.
const schemas: [string, z.ZodType][] = [
  ...Object.values(rerankFormats).map((format) => [format.name, format.requestSchema] as [string, z.ZodType]),
  ['canonical', rerankRequestSchema],
]

const shapeKeys = (schema: z.ZodType) => Object.keys((schema as z.ZodObject).shape ?? {})

// Values near every edge a field has: right and wrong types, null, empty, zero, floats, unsafe integers,
// object documents, casing of enums.
const fieldValue = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('', ' ', 'left', 'Right', 'up', 'text', '\ud800'),
  fc.boolean(),
  fc.integer({ min: -3, max: 40 }),
  fc.constantFrom(0, -0, 1.5, 2 ** 53, 2 ** 60, 1e21),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }),
  fc.array(fc.constantFrom('a', '', 'title'), { maxLength: 3 }),
  fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.record({ text: fc.string({ maxLength: 3 }) })), {
    maxLength: 3,
  }),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.record({ text: fc.string({ maxLength: 3 }) }),
)

// A value the field most likely accepts, so that many generated bodies are valid as a whole.
const likelyValue = (key: string) => {
  if (key === 'query' || key === 'model' || key === 'instruction') return fc.string({ maxLength: 6 })
  if (key === 'documents' || key === 'texts') return fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 })
  if (key === 'rank_fields' || key === 'rankFields') return fc.array(fc.constantFrom('a', 'title'))
  if (/^(top_|max_|topN|maxT|maxC)/.test(key)) return fc.integer({ min: 1, max: 50 })
  if (/direction/i.test(key)) return fc.constantFrom('left', 'Right', null)
  return fc.oneof(fc.boolean(), fc.constant(null))
}

/** A body over the schema's own keys (each maybe absent), plus stray keys like `__proto__` from JSON. */
const bodyFor = (schema: z.ZodType) =>
  fc
    .tuple(
      fc.record(
        Object.fromEntries(
          shapeKeys(schema).map((key) => [
            key,
            fc.oneof({ weight: 6, arbitrary: likelyValue(key) }, { weight: 1, arbitrary: fieldValue }),
          ]),
        ),
        { requiredKeys: [] },
      ),
      fc.constantFrom('', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{}}}', '{"extra":1}'),
    )
    .map(([fields, stray]) => ({ ...(stray ? JSON.parse(stray) : {}), ...fields }))

describe('fast parse', () => {
  it.each(schemas)('%s: decides only what zod accepts, and returns what zod returns', (_name, schema) => {
    let decided = 0
    fc.assert(
      fc.property(fc.oneof(bodyFor(schema), fc.anything()), (body) => {
        const fast = fastParse(schema, body)
        if (fast === undecided) return
        decided++
        const slow = schema.safeParse(body)
        expect(slow.success).toBe(true)
        expect(fast).toEqual(slow.data)
        expect(Object.getPrototypeOf(fast)).toBe(Object.prototype)
      }),
      { numRuns: 1500 },
    )
    // Not vacuous: wherever the schema has a fast path, it decided a good share of the generated bodies.
    if (fastCheckOf(schema)) expect(decided).toBeGreaterThan(100)
  })

  it('takes the fast path for the bodies almost every caller sends, on every POST route family', () => {
    const body = { query: 'q', documents: ['a', 'b'], top_n: 1, return_documents: true, model: 'm' }
    for (const name of ['native', 'cohere', 'cohere-v2', 'jina'] as const) {
      const schema = rerankFormats[name].requestSchema as z.ZodType
      expect(fastCheckOf(schema), name).toBeDefined()
      const parsed = fastParse(schema, body) as Record<string, unknown>
      expect(parsed).toEqual(schema.parse(body))
      expect(parsed.documents).toEqual(['a', 'b'])
      // A copy: later changes to the caller's array cannot reach the parsed request.
      expect(parsed.documents).not.toBe(body.documents)
    }
  })

  it('leaves unusual and invalid values to zod, which names the field', () => {
    const schema = rerankFormats.native.requestSchema as z.ZodType
    expect(fastParse(schema, { query: 'q', documents: [{ text: 'a' }] })).toBe(undecided)
    expect(fastParse(schema, { query: 'q', documents: ['a'], top_n: 0 })).toBe(undecided)
    expect(fastParse(schema, { query: 1, documents: ['a'] })).toBe(undecided)
    expect(fastParse(schema, ['q'])).toBe(undecided)
    expect(fastParse(schema, { query: 'q', documents: ['a'], model: '' })).toEqual({
      query: 'q',
      documents: ['a'],
    })
    expect(fastParse(schema, { query: 'q', documents: ['a'], truncation_direction: 'Left' })).toEqual({
      query: 'q',
      documents: ['a'],
      truncation_direction: 'left',
    })
  })
})

// Every wire response schema: what a client checks each backend's answer with.
const responseSchemas: [string, z.ZodType][] = Object.values(rerankFormats).map(
  (format) => [format.name, format.responseSchema] as [string, z.ZodType],
)

// Mostly what backends send, with the edges each field has.
const likely = <T>(valid: fc.Arbitrary<T>, ...edges: fc.Arbitrary<unknown>[]) =>
  fc.oneof(
    { weight: 8, arbitrary: valid as fc.Arbitrary<unknown> },
    ...edges.map((arbitrary) => ({ weight: 1, arbitrary })),
  )
const count = likely(fc.nat(5000), fc.constantFrom(-1, 1.5, 2 ** 53, -0, null, '3'))
const answerDocument = likely(
  fc.oneof(fc.string({ maxLength: 5 }), fc.record({ text: fc.string({ maxLength: 5 }) })),
  fc.constantFrom(null, 3, {}, { text: 3 }, { text: 'a', title: 'b' }, ['a']),
  fc.constant(JSON.parse('{"__proto__":{"polluted":1},"text":"a"}')),
)
const answerItem = fc.record(
  {
    index: likely(fc.nat(20), fc.constantFrom(-1, 1.5, 2 ** 53, -0, '1', null)),
    relevance_score: likely(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(Number.NaN, Infinity, -2, '0.5'),
    ),
    score: likely(fc.double({ min: -5, max: 5, noNaN: true }), fc.constantFrom(Number.NaN, -Infinity, null)),
    document: answerDocument,
    input: answerDocument,
    text: likely(fc.string({ maxLength: 5 }), fc.constantFrom(null, 1)),
  },
  { requiredKeys: [] },
)
const tokens = fc.record(
  {
    total_tokens: count,
    prompt_tokens: count,
    completion_tokens: count,
    input_tokens: count,
    output_tokens: count,
    search_units: count,
  },
  { requiredKeys: [] },
)
const answerBody = fc.record(
  {
    id: likely(fc.string({ maxLength: 5 }), fc.constantFrom(null, 1)),
    object: likely(fc.constant('list'), fc.constantFrom(null, 1)),
    model: likely(fc.string({ maxLength: 5 }), fc.constantFrom(null, '', 1)),
    results: likely(fc.array(answerItem, { maxLength: 4 }), fc.constantFrom(null, {}, 'x')),
    data: likely(fc.array(answerItem, { maxLength: 4 }), fc.constantFrom(null, {})),
    usage: likely(tokens, fc.constantFrom(null, 1)),
    meta: likely(fc.record({ billed_units: tokens, tokens }, { requiredKeys: [] }), fc.constant(null)),
    created: likely(fc.integer(), fc.constantFrom(1.5, Number.NaN, null)),
  },
  { requiredKeys: [] },
)

describe('fast parse of answers', () => {
  it.each(responseSchemas)(
    '%s: decides only what zod accepts, and returns what zod returns',
    (_name, schema) => {
      let decided = 0
      fc.assert(
        fc.property(
          fc.oneof(
            { weight: 6, arbitrary: answerBody },
            { weight: 3, arbitrary: fc.array(answerItem, { maxLength: 4 }) },
            { weight: 1, arbitrary: fc.anything() },
          ),
          (body) => {
            const fast = fastParse(schema, body)
            if (fast === undecided) return
            decided++
            const slow = schema.safeParse(body)
            expect(slow.success).toBe(true)
            expect(fast).toEqual(slow.data)
            expect(Object.getPrototypeOf(fast)).toBe(Array.isArray(fast) ? Array.prototype : Object.prototype)
          },
        ),
        { numRuns: 1500 },
      )
      expect(fastCheckOf(schema)).toBeDefined()
      expect(decided).toBeGreaterThan(100)
    },
  )

  it('reads a plain answer without zod, echoed `{text}` documents included', () => {
    const answer = {
      model: 'm',
      results: [
        { index: 1, relevance_score: 0.9, document: { text: 'b' } },
        { index: 0, relevance_score: 0.1, document: 'a' },
      ],
      usage: { total_tokens: 12 },
    }
    const schema = rerankFormats.native.responseSchema as z.ZodType
    expect(fastParse(schema, answer)).toEqual(schema.parse(answer))
    // An echoed object with more fields than text, or a score zod refuses, is left to zod.
    const titled = { results: [{ index: 0, relevance_score: 0.5, document: { text: 'a', title: 't' } }] }
    expect(fastParse(schema, titled)).toBe(undecided)
    expect(fastParse(schema, { results: [{ index: 0, relevance_score: Number.NaN }] })).toBe(undecided)
  })
})
