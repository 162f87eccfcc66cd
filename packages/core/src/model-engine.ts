import { availableParallelism } from 'node:os'
import type { Logger } from '@rerank-kit/protocol'
import {
  type RerankCallOptions,
  RerankError,
  type RerankRequest,
  type RerankResponse,
  type RerankTimings,
  rankScores,
} from '@rerank-kit/protocol'
import { acceleratorAbsence } from './accelerator-absence'
import { BatchScheduler, type BatchStats, type JobTimes } from './batching/batch-scheduler'
import { buildBatchTensors, type TensorLayout } from './batching/batch-tensors'
import { type Device, providerPlan } from './device'
import { EngineStats, type EngineStatsSnapshot } from './engine-stats'
import { detectFamily, type FamilyName, type ModelFamily, modelMaxLength } from './model-family'
import { type ModelDtype, type ResolvedModel, servedNameOf } from './model-files'
import { loadTokenizer } from './tokenization/load-tokenizer'
import {
  type EncodeDefaults,
  encodeDecoderPrompts,
  encodeEncoderPairs,
  type PairItem,
} from './tokenization/pair-encoder'
import { pairLayoutOf } from './tokenization/pair-layout'
import { WorkerPool } from './workers/worker-pool'
import type { ScoreHead, WorkerCrash } from './workers/worker-protocol'

/** One served model. Everything but `model` has a default. */
export interface ModelOptions {
  /** A Hugging Face hub id or a local folder. */
  model: string
  /** The name requests use (`model` field); defaults to `model`, or a folder's own name (servedNameOf). */
  name?: string
  aliases?: string[]
  revision?: string
  dtype?: ModelDtype
  /** Override the family detected from config.json. */
  family?: FamilyName
  /** Longest input in tokens (query + document + special tokens); default: the model's own limit. */
  maxLength?: number
  device?: Device
  /** Inference threads (one ONNX session each). */
  workers?: number
  /** onnxruntime intra-op threads per worker; default: the cores shared out among the workers. */
  threadsPerWorker?: number
  /** Padded tokens per batch (longest pair x pairs). */
  maxBatchTokens?: number
  maxBatchSize?: number
  /** How long a batch that is not full waits for more pairs. */
  maxWaitMs?: number
  /** Past this many queued pairs, requests are refused at once (503 + Retry-After). */
  maxQueuedPairs?: number
  /**
   * Past this expected wait for the queued pairs (at the drain rate measured under load), requests are refused
   * at once too. Set it below the request deadline so that accepted requests finish in time. Unset: no limit.
   */
  maxQueueWaitMs?: number
  /** Chunks per document when a request does not set max_chunks_per_doc (1 = truncate). */
  maxChunksPerDoc?: number
  chunkOverlap?: number
}

export function defaultWorkers(cores = availableParallelism()): number {
  return cores >= 4 ? 2 : 1
}

/** onnxruntime intra-op threads per worker when not set: the cores shared out among the workers. */
export function defaultThreadsPerWorker(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / workers))
}

function sigmoid(x: number): number {
  // Two branches keep exp() from overflowing for large |x|.
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}

function scoreHead(
  family: ModelFamily,
  config: Record<string, unknown>,
  encode: (t: string) => number[],
): ScoreHead {
  if (family.kind === 'encoder') {
    return family.numLabels === 1
      ? { kind: 'single-logit' }
      : { kind: 'two-labels', positive: family.positiveLabel, negative: 1 - family.positiveLabel }
  }
  const token = (label: string) => {
    const ids = encode(label)
    if (ids.length !== 1)
      throw new RerankError('internal', `The answer "${label}" is not one token for this tokenizer`)
    return ids[0]!
  }
  const heads = Number(config.num_attention_heads)
  return {
    kind: 'decoder',
    yesTokenId: token(family.template.positiveLabel),
    noTokenId: token(family.template.negativeLabel),
    numKeyValueHeads: Number(config.num_key_value_heads ?? heads),
    headDim: Number(config.head_dim ?? Number(config.hidden_size) / heads),
    layers: Number(config.num_hidden_layers),
  }
}

/**
 * Where a request's time went (see RerankTimings): tokenizing from the engine's start to the end of encoding,
 * queueing from submission to its first batch's start, inference from that start to its last batch's end.
 * The parts a request never reached (no pairs: no batch) are left out.
 */
function timingsOf(started: number, tokenized: number, times: JobTimes): RerankTimings {
  const timings: RerankTimings = { tokenizationMs: tokenized - started }
  if (!Number.isNaN(times.firstStartAt)) {
    timings.queueMs = times.firstStartAt - times.submittedAt
    if (!Number.isNaN(times.lastEndAt)) timings.inferenceMs = times.lastEndAt - times.firstStartAt
  }
  return timings
}

/**
 * One model: tokenizer on the calling thread (time-sliced), pairs batched across requests, inference in
 * worker threads. Scores are sigmoid(log-odds) computed once in float64, so a pair's score never depends on
 * the batch it ran in.
 */
export class ModelEngine {
  private constructor(
    readonly name: string,
    readonly family: ModelFamily,
    readonly maxLength: number,
    private readonly encode: (request: RerankRequest) => Promise<{ items: PairItem[] }>,
    private readonly pool: WorkerPool,
    private readonly scheduler: BatchScheduler<PairItem>,
    private readonly stats: EngineStats,
    readonly resolved: ResolvedModel,
  ) {}

  /** Pairs of accepted requests still being tokenized: they count against the queue limit already. */
  private encodingPairs = 0

  static async load(
    options: ModelOptions,
    resolved: ResolvedModel,
    logger: Logger,
    onBatch?: (model: string, stats: BatchStats) => void,
  ): Promise<ModelEngine> {
    const name = servedNameOf(options)
    const family = detectFamily(resolved.config, options.family)
    const tokenizer = await loadTokenizer(resolved.dir)
    const maxLength = options.maxLength ?? modelMaxLength(resolved.config, tokenizer.tokenizerConfig, family)
    const workers = options.workers ?? defaultWorkers()
    const plan = providerPlan(options.device ?? 'auto', process.platform, acceleratorAbsence())
    for (const { provider, reason } of plan.skipped) {
      logger.info(`device auto: ${provider} skipped`, { model: name, reason })
    }
    const pool = new WorkerPool({
      name,
      logger,
      size: workers,
      config: {
        onnxPath: resolved.onnxPath,
        providers: plan.providers,
        intraOpNumThreads: options.threadsPerWorker ?? defaultThreadsPerWorker(workers),
        head: scoreHead(family, resolved.config, tokenizer.encode),
      },
    })
    try {
      await pool.start()
    } catch (error) {
      // An explicit accelerator that could not start: what is missing, when the files say (no Vulkan loader...).
      if (plan.missing === undefined || !RerankError.isInstance(error)) throw error
      throw new RerankError(error.code, `${error.message} (${plan.missing})`, { cause: error })
    }
    const declared = new Set(pool.inputNames)
    const layout: TensorLayout = {
      padId: tokenizer.padId,
      tokenTypes: declared.has('token_type_ids'),
      positionIds: declared.has('position_ids'),
      padding: family.kind === 'decoder' && declared.has('num_logits_to_keep') ? 'left' : 'right',
      lastIndex: family.kind === 'decoder' && !declared.has('num_logits_to_keep'),
    }
    const defaults: EncodeDefaults = {
      maxChunksPerDoc: options.maxChunksPerDoc ?? 1,
      chunkOverlap: options.chunkOverlap ?? 0,
    }
    const pairLayout = family.kind === 'encoder' ? pairLayoutOf(tokenizer.tokenizerJson) : undefined
    const encode = (request: RerankRequest) =>
      family.kind === 'encoder'
        ? encodeEncoderPairs(request, tokenizer, pairLayout!, maxLength, defaults)
        : encodeDecoderPrompts(request, tokenizer, family.template, maxLength, defaults)
    const stats = new EngineStats()
    const scheduler = new BatchScheduler<PairItem>({
      maxBatchTokens: options.maxBatchTokens ?? 4096,
      maxBatchSize: options.maxBatchSize ?? 64,
      maxWaitMs: options.maxWaitMs ?? 2,
      maxQueuedItems: options.maxQueuedPairs ?? 32_000,
      ...(options.maxQueueWaitMs !== undefined && { maxQueueWaitMs: options.maxQueueWaitMs }),
      concurrency: workers,
      runBatch: (items) => pool.run(buildBatchTensors(items, layout)),
      onBatch: (batch) => {
        stats.recordBatch(batch)
        onBatch?.(name, batch)
      },
    })
    logger.info('model loaded', {
      model: name,
      family: family.name,
      source: resolved.source,
      dtype: resolved.dtype,
      provider: pool.provider,
      workers,
      maxLength,
    })
    return new ModelEngine(name, family, maxLength, encode, pool, scheduler, stats, resolved)
  }

  /** The queue is at 90% of its limit (pairs or expected wait): new requests are likely to be refused. */
  get isSaturated(): boolean {
    return this.scheduler.saturated
  }

  get provider(): string {
    return this.pool.provider
  }

  async rerank(request: RerankRequest, options: RerankCallOptions = {}): Promise<RerankResponse> {
    const started = performance.now()
    try {
      // Refused before tokenizing, counting the pairs of requests still being tokenized: under overload,
      // tokenizing requests only to refuse them took the main thread from the accepted ones, so that refusals
      // came late and accepted requests starved (one pair per document at least; chunks are checked at submit).
      const expected = request.documents.length
      const refused = this.scheduler.refusal(expected, this.encodingPairs)
      if (refused) throw refused
      this.encodingPairs += expected
      const { items } = await this.encode(request).finally(() => {
        this.encodingPairs -= expected
      })
      const tokenized = performance.now()
      if (options.signal?.aborted) throw new RerankError('aborted', 'The request was aborted')
      const times: JobTimes = { submittedAt: Number.NaN, firstStartAt: Number.NaN, lastEndAt: Number.NaN }
      const raw = await this.scheduler.submit(items, options.signal, times)
      // A chunked document scores the max over its chunks (the max of logits is the max of sigmoids).
      const best = new Float64Array(request.documents.length).fill(Number.NEGATIVE_INFINITY)
      items.forEach((item, i) => {
        best[item.document] = Math.max(best[item.document]!, raw[i]!)
      })
      const scores = Array.from(best, (logit) => (request.rawScores ? logit : sigmoid(logit)))
      const totalTokens = items.reduce((sum, item) => sum + item.length, 0)
      const response: RerankResponse = {
        model: this.name,
        results: rankScores(request, scores),
        usage: { totalTokens, searchUnits: Math.max(1, Math.ceil(items.length / 100)) },
        timings: timingsOf(started, tokenized, times),
      }
      this.stats.recordRequest(performance.now() - started, true)
      return response
    } catch (error) {
      this.stats.recordRequest(performance.now() - started, false)
      throw error
    }
  }

  /** Test hook: makes an inference worker die in the middle of a batch (its current or next one). */
  crashWorker(index: number, how: WorkerCrash = 'exit'): void {
    this.pool.crashWorker(index, how)
  }

  snapshot(): EngineStatsSnapshot {
    return this.stats.snapshot(this.scheduler.queuedItems, this.scheduler.runningBatches, this.pool.restarts)
  }

  /** Finishes queued and running work, then releases the sessions. */
  async close(): Promise<void> {
    await this.scheduler.drain()
    await this.pool.close()
  }
}
