import * as z from 'zod'

/**
 * A fast path in front of zod for the bodies almost every caller sends (plain strings, small integers,
 * booleans). zod stays the single source of truth: a fast check either returns exactly what zod would, or
 * `undecided`, and then zod parses the value and words the error. The equivalence is a property test
 * (fast-parse.test.ts); the point is the HTTP hot path, where zod cost more than the rest of the route.
 */
export const undecided: unique symbol = Symbol('undecided')

/** The parsed value, or `undecided` when the value is unusual or invalid: zod decides then. */
export type FastCheck = (value: unknown) => unknown

const fastChecks = new WeakMap<z.ZodType, FastCheck | null>()

/** Attaches a fast check to a schema; returns the schema, so field definitions read as before. */
export function withFastCheck<T extends z.ZodType>(schema: T, check: FastCheck): T {
  fastChecks.set(schema, check)
  return schema
}

/** The fast check of a schema: its own, or derived for objects and arrays whose parts all have one. */
export function fastCheckOf(schema: z.ZodType): FastCheck | undefined {
  let check = fastChecks.get(schema)
  if (check === undefined) {
    check = derivedCheck(schema)
    fastChecks.set(schema, check)
  }
  return check ?? undefined
}

/** `schema`'s parse of `value` without zod when the fast path can decide, else `undecided`. */
export function fastParse(schema: z.ZodType, value: unknown): unknown {
  const check = fastCheckOf(schema)
  return check ? check(value) : undecided
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

function derivedCheck(schema: z.ZodType): FastCheck | null {
  // Only stripping objects (z.object): strict and loose ones treat unknown keys differently.
  // Refinements (`checks`) are zod's alone: such schemas always go through zod.
  if (schema._zod.def.checks?.length) return null
  // Plain leaves (no format such as z.email(), no coercion) accept a value of their type as it is. Answers are
  // made of them (`model: optional(z.string())`): without these, every backend's answer went through zod.
  const leaf = schema._zod.def as { format?: unknown; coerce?: unknown }
  if (leaf.format === undefined && !leaf.coerce) {
    if (schema instanceof z.ZodString) return fast.string
    if (schema instanceof z.ZodBoolean) return fast.boolean
    if (schema instanceof z.ZodNumber) return fast.finiteNumber
  }
  if (schema instanceof z.ZodNullable) {
    const check = fastCheckOf(schema.unwrap() as z.ZodType)
    return check ? (value) => (value === null ? null : check(value)) : null
  }
  if (schema instanceof z.ZodObject && schema._zod.def.catchall === undefined) {
    const fields: [string, FastCheck][] = []
    for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      const check = fastCheckOf(field)
      if (!check) return null
      fields.push([key, check])
    }
    return (value) => {
      if (!isPlainObject(value)) return undecided
      // A fresh object with the schema's keys only, like zod's: unknown keys (`__proto__` among them) stay out.
      const parsed: Record<string, unknown> = {}
      for (const [key, check] of fields) {
        const result = check(value[key])
        if (result === undecided) return undecided
        if (result !== undefined) parsed[key] = result
      }
      return parsed
    }
  }
  if (schema instanceof z.ZodArray) {
    const check = fastCheckOf(schema.element as z.ZodType)
    if (!check) return null
    return (value) => {
      if (!Array.isArray(value)) return undecided
      const parsed = new Array(value.length)
      for (let i = 0; i < value.length; i++) {
        const result = check(value[i])
        if (result === undecided) return undecided
        parsed[i] = result
      }
      return parsed
    }
  }
  return null
}

/** Fast checks for leaf fields. */
export const fast = {
  string: (value: unknown) => (typeof value === 'string' ? value : undecided),
  boolean: (value: unknown) => (typeof value === 'boolean' ? value : undecided),
  /** zod's z.number(): any finite number (NaN and the infinities are refused). */
  finiteNumber: (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undecided),
  /** Safe integers from `min` up: anything else (floats, huge numbers) is left to zod's wording. */
  integer:
    (min: number) =>
    (value: unknown): unknown =>
      Number.isSafeInteger(value) && (value as number) >= min ? value : undecided,
  /** Null and absent read as absent, like `optional()`'s transform. */
  optional:
    (check: FastCheck) =>
    (value: unknown): unknown =>
      value === undefined || value === null ? undefined : check(value),
  /** An array of strings, each accepted by `accept`. */
  strings:
    (accept: (text: string) => boolean = () => true) =>
    (value: unknown): unknown => {
      if (!Array.isArray(value)) return undecided
      for (const item of value) if (typeof item !== 'string' || !accept(item)) return undecided
      return value.slice()
    },
}
