/** An OpenAPI or JSON Schema node: only the keys the docs page reads. */
// biome-ignore lint/suspicious/noExplicitAny: the document is plain JSON, walked key by key
export type SchemaNode = Record<string, any>

/** A local ref: zod's "#/$defs/X" is relative to the body schema, "#/components/..." to the document. */
export function resolveRef(schema: SchemaNode | undefined, root: SchemaNode, doc: SchemaNode): SchemaNode {
  let node = schema
  for (let hops = 0; node && typeof node.$ref === 'string' && hops < 16; hops++) {
    const keys = (node.$ref as string)
      .replace('#', '')
      .split('/')
      .filter(Boolean)
      .map((key) => decodeURIComponent(key).split('~1').join('/').split('~0').join('~'))
    node = [root, doc]
      .map((base) => keys.reduce<SchemaNode | undefined>((at, key) => at?.[key], base))
      .find(Boolean)
  }
  return node ?? {}
}

/**
 * A one-line type: "integer ≥ 1", "(string | object {text})[]", enums as their values; null is left out
 * (an optional field may be null).
 */
export function typeText(raw: SchemaNode, root: SchemaNode, doc: SchemaNode, depth = 0): string {
  const schema = resolveRef(raw, root, doc)
  if (depth > 4) return '…'
  const variants: SchemaNode[] | undefined = schema.anyOf ?? schema.oneOf
  if (variants) {
    const names = [...new Set(variants.map((s) => typeText(s, root, doc, depth + 1)))].filter(
      (t) => t !== 'null',
    )
    return names.join(' | ') || 'null'
  }
  if (schema.enum) return (schema.enum as unknown[]).map((value) => JSON.stringify(value)).join(' | ')
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  const types = ([] as string[])
    .concat(schema.type ?? 'any')
    .filter((t, _, all) => t !== 'null' || all.length === 1)
  return types
    .map((type) => {
      if (type === 'array') {
        const item = typeText(schema.items ?? {}, root, doc, depth + 1)
        return `${item.includes(' ') ? `(${item})` : item}[]`
      }
      if (type === 'object' && schema.properties)
        return `object {${Object.keys(schema.properties).join(', ')}}`
      let text = type
      if (schema.minimum !== undefined) text += ` ≥ ${schema.minimum}`
      if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER)
        text += ` ≤ ${schema.maximum}`
      return text
    })
    .join(' | ')
}
