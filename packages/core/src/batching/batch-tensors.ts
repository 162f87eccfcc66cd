import type { PairItem } from '../tokenization/pair-encoder'
import type { BatchTensors } from '../workers/worker-protocol'

export interface TensorLayout {
  padId: number
  tokenTypes: boolean
  /** Decoders pass position ids; with left padding only the last position's logits need computing. */
  positionIds: boolean
  padding: 'left' | 'right'
  /** Report each row's last real token (decoders whose graph computes every position's logits). */
  lastIndex: boolean
}

/** Pads a batch into flat int64 tensors. The attention mask zeroes the padding, so a pair scores the same alone. */
export function buildBatchTensors(items: PairItem[], layout: TensorLayout): BatchTensors {
  const batchSize = items.length
  const sequenceLength = Math.max(...items.map((item) => item.length))
  const size = batchSize * sequenceLength
  const inputIds = new BigInt64Array(size).fill(BigInt(layout.padId))
  const attentionMask = new BigInt64Array(size)
  const tokenTypeIds = layout.tokenTypes ? new BigInt64Array(size) : undefined
  // transformers.js's convention: cumsum(mask) - 1 for real tokens, 1 for padding.
  const positionIds = layout.positionIds ? new BigInt64Array(size).fill(1n) : undefined
  const lastIndex = layout.lastIndex ? new Int32Array(batchSize) : undefined
  items.forEach((item, row) => {
    const start = row * sequenceLength + (layout.padding === 'left' ? sequenceLength - item.length : 0)
    for (let i = 0; i < item.length; i++) {
      inputIds[start + i] = BigInt(item.ids[i]!)
      attentionMask[start + i] = 1n
      if (tokenTypeIds) tokenTypeIds[start + i] = BigInt(item.typeIds?.[i] ?? 0)
      if (positionIds) positionIds[start + i] = BigInt(i)
    }
    if (lastIndex) lastIndex[row] = (layout.padding === 'left' ? sequenceLength : item.length) - 1
  })
  const tensors: BatchTensors = { batchSize, sequenceLength, inputIds, attentionMask }
  if (tokenTypeIds) tensors.tokenTypeIds = tokenTypeIds
  if (positionIds) tensors.positionIds = positionIds
  if (lastIndex) tensors.lastIndex = lastIndex
  return tensors
}
