/**
 * Prompt templates of decoder rerankers (causal LMs judged by the logits of two answer tokens). The document
 * sits between `head` and `tail`; whoever truncates must clip the document, never the tail, or the model
 * answers a different question and the score is garbage without any error.
 */
export interface DecoderPromptTemplate {
  readonly name: DecoderTemplateName
  /** Everything before the document: system prompt, instruction and query. */
  head(query: string, instruction?: string): string
  /** Everything after the document, ending where the model's answer token goes. */
  readonly tail: string
  /** The answer meaning "relevant"; its probability is the score. */
  readonly positiveLabel: string
  readonly negativeLabel: string
}

export type DecoderTemplateName = 'qwen3-reranker' | 'mxbai-rerank-v2'

const qwen3System =
  '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct ' +
  'provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'

export const qwen3DefaultInstruction =
  'Given a web search query, retrieve relevant passages that answer the query'

export const qwen3RerankerTemplate: DecoderPromptTemplate = {
  name: 'qwen3-reranker',
  head: (query, instruction) =>
    `${qwen3System}<Instruct>: ${instruction || qwen3DefaultInstruction}\n<Query>: ${query}\n<Document>: `,
  tail: '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
  positiveLabel: 'yes',
  negativeLabel: 'no',
}

const mxbaiSystem =
  '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\n'

const mxbaiTask =
  'You are a search relevance expert who evaluates how well documents match search queries. For each ' +
  'query-document pair, carefully analyze the semantic relationship between them, then provide your binary ' +
  'relevance judgment (0 for not relevant, 1 for relevant).\nRelevance:'

export const mxbaiRerankV2Template: DecoderPromptTemplate = {
  name: 'mxbai-rerank-v2',
  head: (query, instruction) =>
    `${mxbaiSystem}${instruction ? `instruction: ${instruction}\n` : ''}query: ${query}\ndocument: `,
  tail: `\n${mxbaiTask}<|im_end|>\n<|im_start|>assistant\n`,
  positiveLabel: '1',
  negativeLabel: '0',
}

export const decoderTemplates: Readonly<Record<DecoderTemplateName, DecoderPromptTemplate>> = {
  'qwen3-reranker': qwen3RerankerTemplate,
  'mxbai-rerank-v2': mxbaiRerankV2Template,
}

export function renderPrompt(
  template: DecoderPromptTemplate,
  query: string,
  document: string,
  instruction?: string,
): string {
  return template.head(query, instruction) + document + template.tail
}
