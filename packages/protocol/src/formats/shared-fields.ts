import * as z from 'zod'
import { fast, fastCheckOf, undecided, withFastCheck } from './fast-parse'

// Building blocks shared by every family's *-api.ts. Inputs are lenient where peers are sloppy (null for an
// absent optional field, unknown keys ignored) and strict where a wrong value would silently change results.

/** An optional field that gateways sometimes send as null: null reads as absent. */
export const optional = <T extends z.ZodType>(schema: T) => {
  const wrapped = schema.nullish().transform((value) => value ?? undefined)
  const check = fastCheckOf(schema)
  return check ? withFastCheck(wrapped, fast.optional(check)) : wrapped
}

export const queryField = withFastCheck(z.string({ error: 'expected a string' }), fast.string)

/** A plain string field (an instruction, a name). */
export const textField = () => withFastCheck(z.string(), fast.string)

export const documentObject = z.looseObject({ text: z.string({ error: 'expected a string' }).optional() })

// What backends echo in their answers: a string, or `{text}` alone (zod's copy of it); any other object, zod.
export const documentItem = withFastCheck(
  z.union([z.string(), documentObject], {
    error: 'expected a string or an object with a text field',
  }),
  (value) => {
    if (typeof value === 'string') return value
    if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
      return undecided
    }
    const { text } = value as { text?: unknown }
    return typeof text === 'string' && Object.keys(value).length === 1 ? { text } : undecided
  },
)

// Plain-string documents, the common case, are checked fast; object documents go through zod.
export const documentList = withFastCheck(
  z.array(documentItem, { error: 'expected an array of documents' }),
  fast.strings(),
)

export const stringList = withFastCheck(
  z.array(z.string({ error: 'expected a string' }), { error: 'expected an array of strings' }),
  fast.strings(),
)

export const positiveInt = optional(
  withFastCheck(
    z.number({ error: 'expected an integer >= 1' }).int({ error: 'expected an integer >= 1' }).min(1, {
      error: 'expected an integer >= 1',
    }),
    fast.integer(1),
  ),
)

export const flag = optional(withFastCheck(z.boolean({ error: 'expected true or false' }), fast.boolean))

/** An empty model name is what many gateways send for "the default": read it as absent. */
export const modelField = withFastCheck(
  optional(z.string({ error: 'expected a string' })).transform((value) => value || undefined),
  fast.optional((value) => (typeof value === 'string' ? value || undefined : undecided)),
)

export const rankFieldsField = optional(
  withFastCheck(
    z.array(z.string().min(1, { error: 'expected a non-empty field name' }), {
      error: 'expected an array of field names',
    }),
    fast.strings((name) => name.length > 0),
  ),
)

const directions = ['left', 'right', 'Left', 'Right'] as const
const directionSet = new Set<string>(directions)

export const truncationDirectionField = withFastCheck(
  optional(z.enum(directions)).transform((value) => value?.toLowerCase() as 'left' | 'right' | undefined),
  fast.optional((value) =>
    typeof value === 'string' && directionSet.has(value) ? value.toLowerCase() : undecided,
  ),
)

/** Response side: a score must be a finite number (zod rejects NaN and infinities). */
export const scoreField = z.number({ error: 'expected a finite number' })

export const indexField = withFastCheck(z.number().int().min(0), fast.integer(0))

export const tokenCount = optional(withFastCheck(z.number().int().min(0), fast.integer(0)))
