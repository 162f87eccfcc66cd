import {
  type DecoderPromptTemplate,
  type DecoderTemplateName,
  decoderTemplates,
  RerankError,
} from '@rerank-kit/protocol'

/** The template named, else the one the model name points to (Infinity serves them as `*-seq` conversions). */
export function classifyTemplate(name: DecoderTemplateName | undefined, model: string | undefined) {
  if (name) return decoderTemplates[name]
  if (model && /qwen3/i.test(model)) return decoderTemplates['qwen3-reranker']
  if (model && /mxbai-rerank/i.test(model)) return decoderTemplates['mxbai-rerank-v2']
  throw new RerankError(
    'invalid_request',
    `infinity-classify needs a prompt template: set \`template\` ('qwen3-reranker' or 'mxbai-rerank-v2')` +
      `${model ? `, none is known for model "${model}"` : ''}`,
    { param: 'template' },
  )
}

/**
 * Characters left for each document once the template's head (with query and instruction) and tail are in
 * the budget. The document is what gets clipped: the tail holds the question the model answers.
 */
export function documentBudget(
  template: DecoderPromptTemplate,
  query: string,
  instruction: string | undefined,
  maxInputChars: number,
): number {
  const budget = maxInputChars - template.head(query, instruction).length - template.tail.length
  if (budget < 1) {
    throw new RerankError(
      'invalid_request',
      `The query and instruction leave no room for a document within the classifier's input budget of ` +
        `${maxInputChars} characters (maxInputChars)`,
      { param: 'query' },
    )
  }
  return budget
}
