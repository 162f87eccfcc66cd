import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as transformers from '@huggingface/transformers'
import { maxTokenCharsOf } from './bounded-encode'
import { type CutRules, cutRulesOf } from './cut-rules'

export interface LoadedTokenizer {
  /** Token ids of a text, without special tokens. */
  encode(text: string): number[]
  padId: number
  /** Most characters one token covers (sizes the character cut of long texts, see boundedEncode). */
  maxTokenChars: number
  /** Where its texts can be cut exactly (see cut-rules.ts). */
  cutRules: CutRules
  tokenizerJson: Record<string, unknown>
  tokenizerConfig: Record<string, unknown>
}

type TokenizerClass = new (json: unknown, config: unknown) => transformers.PreTrainedTokenizer

/**
 * Builds the transformers.js tokenizer from a local folder, choosing the class by `tokenizer_class` the way
 * AutoTokenizer does, from files read once (the pair layout needs tokenizer.json's post-processor too).
 */
export async function loadTokenizer(dir: string): Promise<LoadedTokenizer> {
  const [tokenizerJson, tokenizerConfig] = await Promise.all(
    ['tokenizer.json', 'tokenizer_config.json'].map(async (file) =>
      JSON.parse(await readFile(join(dir, file), 'utf8')),
    ),
  )
  const className = String(tokenizerConfig.tokenizer_class ?? 'PreTrainedTokenizer').replace(/Fast$/, '')
  const classes = transformers as unknown as Record<string, TokenizerClass | undefined>
  const Tokenizer = classes[className] ?? (transformers.PreTrainedTokenizer as unknown as TokenizerClass)
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig)
  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }),
    padId: (tokenizer as { pad_token_id?: number }).pad_token_id ?? 0,
    maxTokenChars: maxTokenCharsOf(tokenizerJson),
    cutRules: cutRulesOf(tokenizerJson),
    tokenizerJson,
    tokenizerConfig,
  }
}
