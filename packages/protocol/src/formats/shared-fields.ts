import * as z from 'zod'

// Building blocks shared by every family's *-api.ts. Inputs are lenient where peers are sloppy (null for an
// absent optional field, unknown keys ignored) and strict where a wrong value would silently change results.

/** An optional field that gateways sometimes send as null: null reads as absent. */
export const optional = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((value) => value ?? undefined)

export const queryField = z.string({ error: 'expected a string' })

export const documentObject = z.looseObject({ text: z.string({ error: 'expected a string' }).optional() })

export const documentItem = z.union([z.string(), documentObject], {
  error: 'expected a string or an object with a text field',
})

export const documentList = z.array(documentItem, { error: 'expected an array of documents' })

export const stringList = z.array(z.string({ error: 'expected a string' }), {
  error: 'expected an array of strings',
})

export const positiveInt = optional(
  z.number({ error: 'expected an integer >= 1' }).int({ error: 'expected an integer >= 1' }).min(1, {
    error: 'expected an integer >= 1',
  }),
)

export const flag = optional(z.boolean({ error: 'expected true or false' }))

/** An empty model name is what many gateways send for "the default": read it as absent. */
export const modelField = optional(z.string({ error: 'expected a string' })).transform(
  (value) => value || undefined,
)

export const rankFieldsField = optional(
  z.array(z.string().min(1, { error: 'expected a non-empty field name' }), {
    error: 'expected an array of field names',
  }),
)

export const truncationDirectionField = optional(z.enum(['left', 'right', 'Left', 'Right'])).transform(
  (value) => value?.toLowerCase() as 'left' | 'right' | undefined,
)

/** Response side: a score must be a finite number (zod rejects NaN and infinities). */
export const scoreField = z.number({ error: 'expected a finite number' })

export const indexField = z.number().int().min(0)

export const tokenCount = optional(z.number().int().min(0))
