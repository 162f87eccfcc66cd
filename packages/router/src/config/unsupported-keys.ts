import type * as z from 'zod'

export type Path = readonly PropertyKey[]

// zod 4 keeps each schema's definition on `_zod.def`; only the kinds the config schema uses are walked.
interface SchemaDef {
  type: string
  shape?: Record<string, z.ZodType>
  innerType?: z.ZodType
  element?: z.ZodType
  valueType?: z.ZodType
}
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def

/**
 * The path of every key of `raw` that `schema` does not read (`general_settings`,
 * `model_list[0].litellm_params.api_version` once formatted). The schema strips them so a LiteLLM config loads as it is; this
 * names them, so a migrated config is never quietly read as something else. Values are never looked at.
 */
export function unsupportedKeyPaths(raw: unknown, schema: z.ZodType): Path[] {
  const found: Path[] = []
  walk(raw, schema, [], found)
  return found
}

function walk(value: unknown, schema: z.ZodType, path: Path, found: Path[]): void {
  if (value === null || value === undefined) return
  const def = defOf(schema)
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
      walk(value, def.innerType!, path, found)
      return
    case 'array':
      if (Array.isArray(value)) {
        value.forEach((item, index) => {
          walk(item, def.element!, [...path, index], found)
        })
      }
      return
    case 'record':
      if (isMap(value))
        for (const [key, item] of Object.entries(value)) walk(item, def.valueType!, [...path, key], found)
      return
    case 'object':
      if (!isMap(value)) return
      for (const [key, item] of Object.entries(value)) {
        const known = def.shape![key]
        if (known === undefined) found.push([...path, key])
        else walk(item, known, [...path, key], found)
      }
      return
    default:
      return
  }
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
