import { parentPort, workerData } from 'node:worker_threads'
import * as ort from 'onnxruntime-node'
import type {
  BatchTensors,
  FromWorker,
  ProviderFailure,
  ScoreHead,
  ToWorker,
  WorkerConfig,
  WorkerCrash,
} from './worker-protocol'

// One ONNX session per worker thread: onnxruntime-node's run() blocks the thread it runs on, so it must not
// be the host's event loop. The session lives as long as the worker (repeated create/release leaks memory).

const config = workerData as WorkerConfig
// onnxruntime's native logger writes to stderr (e.g. every failed CUDA probe); libraries must not print, and
// failures reach the host through our messages instead.
ort.env.logLevel = 'fatal'
const port = parentPort!
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer)

async function createSession(): Promise<{
  session: ort.InferenceSession
  provider: string
  failures: ProviderFailure[]
}> {
  const failures: ProviderFailure[] = []
  for (const provider of config.providers) {
    try {
      const session = await ort.InferenceSession.create(config.onnxPath, {
        executionProviders: [provider],
        intraOpNumThreads: config.intraOpNumThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Every batch has a new shape: memory patterns (planned per shape) would pile up without end.
        enableMemPattern: false,
        logSeverityLevel: 4,
      })
      return { session, provider, failures }
    } catch (error) {
      failures.push({ provider, message: error instanceof Error ? error.message : String(error) })
    }
  }
  throw Object.assign(new Error('No execution provider could start'), { failures })
}

function int64(data: BigInt64Array, dims: number[]) {
  return new ort.Tensor('int64', data, dims)
}

function feeds(
  session: ort.InferenceSession,
  batch: BatchTensors,
  head: ScoreHead,
): Record<string, ort.Tensor> {
  const dims = [batch.batchSize, batch.sequenceLength]
  const inputs: Record<string, ort.Tensor> = {
    input_ids: int64(batch.inputIds, dims),
    attention_mask: int64(batch.attentionMask, dims),
  }
  const declared = new Set(session.inputNames)
  if (declared.has('token_type_ids'))
    inputs.token_type_ids = int64(batch.tokenTypeIds ?? new BigInt64Array(batch.inputIds.length), dims)
  if (declared.has('position_ids') && batch.positionIds) inputs.position_ids = int64(batch.positionIds, dims)
  if (head.kind === 'decoder') {
    // An empty KV cache: every layer's past has a zero-length sequence axis.
    const empty = new Float32Array(0)
    for (let layer = 0; layer < head.layers; layer++) {
      for (const part of ['key', 'value']) {
        inputs[`past_key_values.${layer}.${part}`] = new ort.Tensor('float32', empty, [
          batch.batchSize,
          head.numKeyValueHeads,
          0,
          head.headDim,
        ])
      }
    }
    if (declared.has('num_logits_to_keep'))
      inputs.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(1n), [])
  }
  return inputs
}

/** Raw score = log-odds of relevance, computed in float64 so that score = sigmoid(raw) loses nothing. */
function rawScores(logits: ort.Tensor, batch: BatchTensors, head: ScoreHead): Float64Array {
  const data = logits.data as Float32Array
  const raw = new Float64Array(batch.batchSize)
  if (head.kind === 'single-logit') {
    for (let row = 0; row < batch.batchSize; row++) raw[row] = data[row]!
  } else if (head.kind === 'two-labels') {
    const width = logits.dims[1]!
    for (let row = 0; row < batch.batchSize; row++) {
      raw[row] = data[row * width + head.positive]! - data[row * width + head.negative]!
    }
  } else {
    const [, positions, vocab] = logits.dims as [number, number, number]
    for (let row = 0; row < batch.batchSize; row++) {
      // Kept logits are the last position (left padding); else pick each row's last real token.
      const position = positions === 1 ? 0 : batch.lastIndex![row]!
      const base = (row * positions + position) * vocab
      raw[row] = data[base + head.yesTokenId]! - data[base + head.noTokenId]!
    }
  }
  return raw
}

async function main() {
  let session: ort.InferenceSession
  try {
    const created = await createSession()
    session = created.session
    post({
      type: 'ready',
      provider: created.provider as WorkerConfig['providers'][number],
      inputNames: [...session.inputNames],
      failures: created.failures,
    })
  } catch (error) {
    const failures = (error as { failures?: ProviderFailure[] }).failures ?? []
    post({ type: 'fatal', message: (error as Error).message, failures })
    return
  }
  // Only `logits` is fetched: decoders also output present.* caches we never need.
  const fetches = ['logits']
  let crashAfterRun: WorkerCrash | undefined
  const crash = (how: WorkerCrash) => {
    if (how === 'exit') process.exit(70)
    // Outside the async handler, so it is an uncaught exception (the worker's 'error' event), not a rejection.
    setImmediate(() => {
      throw new Error('inference worker crash (test hook)')
    })
  }
  port.on('message', async (message: ToWorker) => {
    if (message.type === 'crash-after-run') {
      // Idle, it waits for the next batch: the hook always kills a batch in flight.
      crashAfterRun = message.how
      return
    }
    if (message.type === 'close') {
      await session.release()
      post({ type: 'closed' })
      port.close()
      return
    }
    try {
      const outputs = await session.run(feeds(session, message.batch, config.head), fetches)
      // Exit only between native calls: terminating a thread inside session.run takes the whole process down.
      if (crashAfterRun) return crash(crashAfterRun)
      const raw = rawScores(outputs.logits!, message.batch, config.head)
      post({ type: 'result', id: message.id, raw }, [raw.buffer as ArrayBuffer])
    } catch (error) {
      post({ type: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) })
    }
  })
}

void main()
