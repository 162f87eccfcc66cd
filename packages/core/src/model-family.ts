import {
  type DecoderPromptTemplate,
  mxbaiRerankV2Template,
  qwen3RerankerTemplate,
  RerankError,
} from '@rerank-kit/protocol'

export type FamilyName = 'cross-encoder' | 'qwen3-reranker' | 'mxbai-rerank-v2'

export type ModelFamily =
  | { name: 'cross-encoder'; kind: 'encoder'; numLabels: 1 | 2; positiveLabel: number }
  | { name: 'qwen3-reranker' | 'mxbai-rerank-v2'; kind: 'decoder'; template: DecoderPromptTemplate }

const encoderTypes = new Set([
  'bert',
  'roberta',
  'xlm-roberta',
  'modernbert',
  'electra',
  'deberta-v2',
  'distilbert',
])
const positiveNames = /^(1|yes|true|relevant|positive|label_1)$/i

function labelInfo(config: Record<string, unknown>): { numLabels: 1 | 2; positiveLabel: number } {
  const id2label = (config.id2label ?? {}) as Record<string, string>
  const numLabels = (config.num_labels as number | undefined) ?? (Object.keys(id2label).length || 1)
  if (numLabels === 1) return { numLabels: 1, positiveLabel: 0 }
  if (numLabels !== 2) {
    throw new RerankError('invalid_request', `A reranker has one or two labels; this model has ${numLabels}`)
  }
  // The relevant label by name when the config names it, else index 1 (the convention of two-label rerankers).
  const named = Object.entries(id2label).find(([, label]) => positiveNames.test(label))
  return { numLabels: 2, positiveLabel: named ? Number(named[0]) : 1 }
}

/**
 * The model family, from config.json (`family` overrides it): BERT-like cross-encoders (one logit or two
 * labels), Qwen3-Reranker (Qwen3 causal LM, yes/no) and mxbai-rerank-v2 (Qwen2 causal LM, 0/1).
 */
export function detectFamily(config: Record<string, unknown>, override?: FamilyName): ModelFamily {
  const architectures = (config.architectures as string[] | undefined) ?? []
  const modelType = String(config.model_type ?? '')
  const name: FamilyName | undefined =
    override ??
    (architectures.some((a) => a.endsWith('ForSequenceClassification')) || encoderTypes.has(modelType)
      ? 'cross-encoder'
      : architectures.includes('Qwen3ForCausalLM') || modelType === 'qwen3'
        ? 'qwen3-reranker'
        : architectures.includes('Qwen2ForCausalLM') || modelType === 'qwen2'
          ? 'mxbai-rerank-v2'
          : undefined)
  if (name === undefined) {
    throw new RerankError(
      'invalid_request',
      `Cannot tell the reranker family of model_type "${modelType}" (${architectures.join(', ') || 'no architectures'}); ` +
        'set family to cross-encoder, qwen3-reranker or mxbai-rerank-v2',
    )
  }
  if (name === 'cross-encoder') return { name, kind: 'encoder', ...labelInfo(config) }
  return {
    name,
    kind: 'decoder',
    template: name === 'qwen3-reranker' ? qwen3RerankerTemplate : mxbaiRerankV2Template,
  }
}

/** The longest input the model takes: the smaller of the tokenizer's and the position table's limits. */
export function modelMaxLength(
  config: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown>,
  family: ModelFamily,
): number {
  const fromTokenizer = Number(tokenizerConfig.model_max_length)
  // RoBERTa-style position tables reserve padding_idx + 1 slots.
  const offset = ['roberta', 'xlm-roberta'].includes(String(config.model_type)) ? 2 : 0
  const fromPositions = Number(config.max_position_embeddings) - offset
  const limits = [fromTokenizer, fromPositions].filter(
    (value) => Number.isFinite(value) && value > 0 && value < 1e6,
  )
  const limit = limits.length > 0 ? Math.min(...limits) : 512
  // Decoders accept 32k+ tokens; past 8k a batch's memory explodes for little ranking gain.
  return family.kind === 'decoder' ? Math.min(limit, 8192) : limit
}
