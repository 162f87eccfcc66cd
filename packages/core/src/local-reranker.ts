import {
  fromUnknown,
  inSpan,
  type Logger,
  modelNotFound,
  parseRerankRequest,
  type RerankCallOptions,
  RerankError,
  type Reranker,
  type RerankRequest,
  type RerankResponse,
  type Span,
  SpanKind,
  silentLogger,
} from '@rerank-kit/protocol'
import type { BatchStats } from './batching/batch-scheduler'
import type { EngineStatsSnapshot } from './engine-stats'
import { ModelEngine, type ModelOptions } from './model-engine'
import { type DownloadProgress, resolveModel, servedNameOf } from './model-files'

export interface LocalRerankerOptions {
  /** The models to serve; the first is the default for requests without `model`. */
  models: ModelOptions[]
  /** Where hub downloads are cached. */
  cacheDir?: string
  /** Never touch the network: models must be local or cached. */
  offline?: boolean
  hubEndpoint?: string
  /** Hugging Face token for gated models (never logged). */
  token?: string
  logger?: Logger
  onProgress?: (model: string, progress: DownloadProgress) => void
  /** Called after every batch: sizes, padding, timings (for metrics). */
  onBatch?: (model: string, stats: BatchStats) => void
}

/**
 * Scores (query, document) pairs with cross-encoder and decoder rerankers in this process. Loading starts
 * at construction; `ready()` resolves when every model is loaded, and `rerank` waits for it.
 */
export class LocalReranker implements Reranker {
  private readonly engines = new Map<string, ModelEngine>()
  /** Each engine once (the map holds aliases too): read per request by isSaturated. */
  private loadedEngines: ModelEngine[] = []
  private readonly names: string[] = []
  private readonly loading: Promise<void>
  private readonly logger: Logger
  private loaded = false
  private failed = false
  private closed = false
  /** Calls accepted and not finished: close() waits for them (some are still tokenizing, not yet queued). */
  private readonly inFlight = new Set<Promise<unknown>>()

  constructor(private readonly options: LocalRerankerOptions) {
    if (options.models.length === 0)
      throw new RerankError('invalid_request', 'LocalReranker needs at least one model')
    this.logger = options.logger ?? silentLogger
    this.loading = this.loadAll()
    // The failure is reported by ready(), rerank() and loadFailed; without this an unawaited load would crash
    // the host.
    this.loading.catch(() => {
      this.failed = true
    })
  }

  static async create(options: LocalRerankerOptions): Promise<LocalReranker> {
    const reranker = new LocalReranker(options)
    await reranker.ready()
    return reranker
  }

  ready(): Promise<void> {
    return this.loading
  }

  get isReady(): boolean {
    return this.loaded && !this.closed
  }

  /** True once loading failed for good: /ready says `failed` instead of `loading`. */
  get loadFailed(): boolean {
    return this.failed
  }

  /** True while some model's queue is (nearly) full and refuses new work at once: /ready reports it. */
  get isSaturated(): boolean {
    return this.loadedEngines.some((engine) => engine.isSaturated)
  }

  /** Served model names (aliases included), default first. */
  get modelNames(): string[] {
    return [...this.names]
  }

  async rerank(request: RerankRequest, options: RerankCallOptions = {}): Promise<RerankResponse> {
    if (this.closed) throw new RerankError('overloaded', 'The reranker is shut down', { retryAfterMs: 1000 })
    const call = inSpan('rerank.local', SpanKind.INTERNAL, localSpanAttributes(request, this.names), (span) =>
      this.run(request, options, span),
    )
    this.inFlight.add(call)
    try {
      return await call
    } finally {
      this.inFlight.delete(call)
    }
  }

  private async run(request: RerankRequest, options: RerankCallOptions, span: Span): Promise<RerankResponse> {
    try {
      const valid = parseRerankRequest(request)
      await this.loading
      const answer = await this.engineFor(valid.model).rerank(valid, options)
      if (span.isRecording()) describeLocalAnswer(span, answer)
      return answer
    } catch (error) {
      throw fromUnknown(error)
    }
  }

  /** Per-model counters: queue depth, batch sizes, padding ratio, pairs per second, latencies. */
  stats(): Record<string, EngineStatsSnapshot & { provider: string }> {
    const stats: Record<string, EngineStatsSnapshot & { provider: string }> = {}
    for (const engine of this.loadedEngines) {
      stats[engine.name] = { ...engine.snapshot(), provider: engine.provider }
    }
    return stats
  }

  /** The engine serving a name (for tests and tools). */
  engine(name?: string): ModelEngine {
    return this.engineFor(name)
  }

  /** Stops taking requests, finishes the queued ones, releases the models. */
  async close(): Promise<void> {
    this.closed = true
    await this.loading.catch(() => {})
    await Promise.allSettled(this.inFlight)
    await Promise.all(this.loadedEngines.map((engine) => engine.close()))
  }

  private engineFor(model: string | undefined): ModelEngine {
    const engine = this.engines.get(model ?? this.names[0]!)
    if (!engine) throw modelNotFound(model!, this.names)
    return engine
  }

  private async loadAll(): Promise<void> {
    const { options, logger } = this
    const settled = await Promise.allSettled(options.models.map((model) => this.loadOne(model)))
    const engines = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
    const failure = settled.find((result) => result.status === 'rejected')
    if (failure) {
      // Models that did load must not keep their worker threads (and the process) alive.
      await Promise.all(engines.map((engine) => engine.close()))
      throw failure.reason
    }
    engines.forEach((engine, index) => {
      for (const name of [engine.name, ...(options.models[index]!.aliases ?? [])]) {
        if (this.engines.has(name))
          throw new RerankError('invalid_request', `Model name "${name}" is used twice`)
        this.engines.set(name, engine)
        this.names.push(name)
      }
    })
    this.loadedEngines = engines
    this.loaded = true
    logger.debug('all models loaded', { models: this.names })
  }

  private async loadOne(model: ModelOptions): Promise<ModelEngine> {
    const { options, logger } = this
    const name = servedNameOf(model)
    try {
      const resolved = await resolveModel({
        model: model.model,
        ...(model.revision !== undefined && { revision: model.revision }),
        ...(model.dtype !== undefined && { dtype: model.dtype }),
        ...(options.cacheDir !== undefined && { cacheDir: options.cacheDir }),
        ...(options.offline !== undefined && { offline: options.offline }),
        ...(options.hubEndpoint !== undefined && { hubEndpoint: options.hubEndpoint }),
        ...(options.token !== undefined && { token: options.token }),
        ...(options.onProgress && {
          onProgress: (event: DownloadProgress) => options.onProgress!(name, event),
        }),
        logger,
      })
      return await ModelEngine.load(model, resolved, logger, options.onBatch)
    } catch (error) {
      if (RerankError.isInstance(error)) throw error
      // Start-up errors keep their text: the operator needs it (the HTTP layer still shows a generic message).
      const message = error instanceof Error ? error.message : String(error)
      throw new RerankError('internal', `Could not load model "${name}": ${message}`, { cause: error })
    }
  }
}

/** A local call's span: the model and the documents (the batch it shares with other requests has no span). */
function localSpanAttributes(request: RerankRequest, names: readonly string[]) {
  return {
    'gen_ai.request.model': request.model ?? names[0] ?? 'none',
    'rerank.documents.count': Array.isArray(request.documents) ? request.documents.length : 0,
  }
}

/** Where the request's time went: tokens scored, time queued, time its batches ran (shared with others). */
function describeLocalAnswer(span: Span, answer: RerankResponse): void {
  if (answer.usage?.totalTokens !== undefined)
    span.setAttribute('gen_ai.usage.input_tokens', answer.usage.totalTokens)
  const timings = answer.timings
  if (timings?.queueMs !== undefined) span.setAttribute('rerank.queue_ms', timings.queueMs)
  if (timings?.inferenceMs !== undefined) span.setAttribute('rerank.inference_ms', timings.inferenceMs)
}
