import type { ExecutionProvider } from '../device'

// Messages between the main thread and an inference worker. Tensors travel as transferred ArrayBuffers.

/** How the worker turns model outputs into one raw score (log-odds) per row. */
export type ScoreHead =
  | { kind: 'single-logit' }
  | { kind: 'two-labels'; positive: number; negative: number }
  | {
      kind: 'decoder'
      yesTokenId: number
      noTokenId: number
      numKeyValueHeads: number
      headDim: number
      layers: number
    }

export interface WorkerConfig {
  onnxPath: string
  providers: ExecutionProvider[]
  intraOpNumThreads: number
  head: ScoreHead
}

export interface BatchTensors {
  batchSize: number
  sequenceLength: number
  inputIds: BigInt64Array
  attentionMask: BigInt64Array
  tokenTypeIds?: BigInt64Array
  positionIds?: BigInt64Array
  /** Decoders without num_logits_to_keep: the position of each row's last real token. */
  lastIndex?: Int32Array
}

export type ToWorker =
  | { type: 'run'; id: number; batch: BatchTensors }
  | { type: 'close' }
  /**
   * Test hook: die when the running (or else the next) batch finishes, before answering it (a crash mid-batch):
   * by process.exit, or by an uncaught error.
   */
  | { type: 'crash-after-run'; how: WorkerCrash }

export type WorkerCrash = 'exit' | 'throw'

export interface ProviderFailure {
  provider: ExecutionProvider
  message: string
}

export type FromWorker =
  | { type: 'ready'; provider: ExecutionProvider; inputNames: string[]; failures: ProviderFailure[] }
  | { type: 'fatal'; message: string; failures: ProviderFailure[] }
  | { type: 'result'; id: number; raw: Float64Array }
  | { type: 'error'; id: number; message: string }
  | { type: 'closed' }
