import { join } from 'node:path'
import { AutoTokenizer } from '@huggingface/transformers'
import { type DecoderPromptTemplate, renderPrompt } from '@rerank-kit/protocol'
import * as ort from 'onnxruntime-node'

// An independent scorer for golden tests: transformers.js's own tokenization (text_pair for encoders, the
// whole rendered prompt for decoders) and one ONNX session run per pair, unpadded, on the main thread. It
// shares no code with the engine under test beyond the prompt strings.

export const fixturesDir = join(import.meta.dirname, '../../../../fixtures/models')

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))

export async function referenceScorer(model: string) {
  const dir = join(fixturesDir, model)
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
  const session = await ort.InferenceSession.create(join(dir, 'onnx/model.onnx'), { intraOpNumThreads: 1 })

  async function runIds(ids: number[], typeIds?: number[]): Promise<Float32Array> {
    const dims = [1, ids.length]
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), dims),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), dims),
    }
    if (session.inputNames.includes('token_type_ids')) {
      feeds.token_type_ids = new ort.Tensor(
        'int64',
        BigInt64Array.from(typeIds ?? ids.map(() => 0), BigInt),
        dims,
      )
    }
    if (session.inputNames.includes('position_ids')) {
      feeds.position_ids = new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, (_, i) => BigInt(i)),
        dims,
      )
    }
    for (const name of session.inputNames.filter((input) => input.startsWith('past_key_values'))) {
      const meta = session.inputMetadata.find((entry) => entry.name === name) as {
        shape?: (number | string)[]
      }
      const [, heads, , headDim] = meta.shape as [unknown, number, unknown, number]
      feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim])
    }
    if (session.inputNames.includes('num_logits_to_keep')) {
      feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(1n), [])
    }
    const out = await session.run(feeds, ['logits'])
    return out.logits!.data as Float32Array
  }

  const vocabSize = (() => {
    const meta = session.outputMetadata.find((entry) => entry.name === 'logits') as {
      shape?: (number | string)[]
    }
    return Number(meta?.shape?.at(-1))
  })()
  const decoderVocab = (total: number, positions: number) =>
    Number.isFinite(vocabSize) && vocabSize > 0 ? vocabSize : total / positions

  return {
    tokenizer,
    /** Log-odds of relevance for a cross-encoder pair (one logit, or positive minus negative of two). */
    async encoderLogit(query: string, document: string): Promise<number> {
      const encoded = tokenizer(query, { text_pair: document, return_token_type_ids: true })
      const ids = Array.from(encoded.input_ids.data as BigInt64Array, Number)
      const typeIds = encoded.token_type_ids
        ? Array.from(encoded.token_type_ids.data as BigInt64Array, Number)
        : undefined
      const logits = await runIds(ids, typeIds)
      return logits.length === 1 ? logits[0]! : logits[1]! - logits[0]!
    },
    /** Raw ids through the model (for checking chunks and truncated pairs). */
    runIds,
    /** Decoder rerankers: logit(yes) - logit(no) at the last position of the whole rendered prompt. */
    async decoderLogit(template: DecoderPromptTemplate, query: string, document: string): Promise<number> {
      const ids = tokenizer.encode(renderPrompt(template, query, document), { add_special_tokens: false })
      return decoderLogitOf(ids, template)
    },
    decoderLogitOf,
    close: () => session.release(),
  }

  async function decoderLogitOf(ids: number[], template: DecoderPromptTemplate): Promise<number> {
    const [yes] = tokenizer.encode(template.positiveLabel, { add_special_tokens: false })
    const [no] = tokenizer.encode(template.negativeLabel, { add_special_tokens: false })
    const logits = await runIds(ids)
    // Either every position's logits, or only the last one's (num_logits_to_keep = 1).
    const vocab = decoderVocab(logits.length, ids.length)
    const last = logits.length - vocab
    return logits[last + yes!]! - logits[last + no!]!
  }
}
