/**
 * Where the special tokens go around a (query, document) pair, read from tokenizer.json's post-processor:
 * `prefix A middle B suffix`, e.g. BERT `[CLS] A [SEP] B [SEP]`, XLM-R `<s> A </s></s> B </s>`.
 * We tokenize the two texts without specials and assemble the pair ourselves, so truncation can cut the
 * document's tokens and never the closing separator (transformers.js's truncation is a plain tail cut).
 */
export interface PairLayout {
  prefix: number[]
  middle: number[]
  suffix: number[]
  /** token_type_ids of each part. */
  prefixType: number
  typeA: number
  middleType: number
  typeB: number
  suffixType: number
}

type TemplatePiece =
  | { SpecialToken: { id: string; type_id: number } }
  | { Sequence: { id: 'A' | 'B'; type_id: number } }

interface PostProcessor {
  type: string
  pair?: TemplatePiece[]
  special_tokens?: Record<string, { ids: number[] }>
  cls?: [string, number]
  sep?: [string, number]
  processors?: PostProcessor[]
}

function fromTemplate(processor: PostProcessor): PairLayout {
  const parts: { ids: number[]; type: number }[] = [{ ids: [], type: 0 }]
  const sequenceTypes: number[] = []
  for (const piece of processor.pair ?? []) {
    if ('Sequence' in piece) {
      sequenceTypes.push(piece.Sequence.type_id)
      parts.push({ ids: [], type: 0 })
      continue
    }
    const special = processor.special_tokens?.[piece.SpecialToken.id]
    if (!special) throw new Error(`tokenizer.json: template token ${piece.SpecialToken.id} has no id`)
    const part = parts.at(-1)!
    if (part.ids.length === 0) part.type = piece.SpecialToken.type_id
    part.ids.push(...special.ids)
  }
  if (sequenceTypes.length !== 2)
    throw new Error('tokenizer.json: the pair template must hold sequences A and B')
  const [prefix, middle, suffix] = parts as [(typeof parts)[0], (typeof parts)[0], (typeof parts)[0]]
  return {
    prefix: prefix.ids,
    middle: middle.ids,
    suffix: suffix.ids,
    prefixType: prefix.type,
    typeA: sequenceTypes[0]!,
    middleType: middle.ids.length > 0 ? middle.type : sequenceTypes[1]!,
    typeB: sequenceTypes[1]!,
    suffixType: suffix.ids.length > 0 ? suffix.type : sequenceTypes[1]!,
  }
}

/** Reads the pair layout from tokenizer.json's `post_processor`. */
export function pairLayoutOf(tokenizerJson: { post_processor?: PostProcessor | null }): PairLayout {
  const processor = tokenizerJson.post_processor
  if (!processor)
    return {
      prefix: [],
      middle: [],
      suffix: [],
      prefixType: 0,
      typeA: 0,
      middleType: 0,
      typeB: 0,
      suffixType: 0,
    }
  switch (processor.type) {
    case 'TemplateProcessing':
      return fromTemplate(processor)
    case 'BertProcessing': {
      const [cls, sep] = [processor.cls![1], processor.sep![1]]
      return {
        prefix: [cls],
        middle: [sep],
        suffix: [sep],
        prefixType: 0,
        typeA: 0,
        middleType: 0,
        typeB: 1,
        suffixType: 1,
      }
    }
    case 'RobertaProcessing': {
      const [cls, sep] = [processor.cls![1], processor.sep![1]]
      return {
        prefix: [cls],
        middle: [sep, sep],
        suffix: [sep],
        prefixType: 0,
        typeA: 0,
        middleType: 0,
        typeB: 0,
        suffixType: 0,
      }
    }
    case 'Sequence': {
      const inner = processor.processors?.find((candidate) =>
        ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing'].includes(candidate.type),
      )
      return pairLayoutOf({ post_processor: inner ?? null })
    }
    default:
      throw new Error(`tokenizer.json: unsupported post_processor ${processor.type}`)
  }
}

export function specialTokenCount(layout: PairLayout): number {
  return layout.prefix.length + layout.middle.length + layout.suffix.length
}
