import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { type Logger, RerankError, silentLogger } from '@rerank-kit/protocol'
import type { ExecutionProvider } from '../device'
import type { BatchTensors, FromWorker, ToWorker, WorkerConfig, WorkerCrash } from './worker-protocol'

export interface WorkerPoolOptions {
  config: WorkerConfig
  size: number
  logger?: Logger
  /** A label for logs (the model name). */
  name?: string
}

interface Running {
  resolve: (raw: Float64Array) => void
  reject: (error: unknown) => void
}

interface PoolWorker {
  worker: Worker
  /** Handed to a caller that has not posted its batch yet: nobody else may take it. */
  reserved: boolean
  busy: Running | undefined
  runId: number
}

// From source (tests, tsx) the worker is a .ts file; built, it is a sibling .js/.cjs.
const here = import.meta.url
const sourceMode = here.endsWith('.ts')
const workerUrl = new URL(
  `./inference-worker${sourceMode ? '.ts' : here.endsWith('.cjs') ? '.cjs' : '.js'}`,
  here,
)

/**
 * The worker entry. From source, a tiny bootstrap registers tsx inside the worker first: on Node 20,
 * `--import tsx` in a worker's execArgv does not apply to the worker's own entry module.
 */
function workerEntry(): [string | URL, { eval?: boolean }] {
  if (!sourceMode) return [workerUrl, {}]
  const tsxPackage = createRequire(here).resolve('tsx/package.json')
  const tsxApi = pathToFileURL(join(dirname(tsxPackage), 'dist/esm/api/index.mjs')).href
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}) })`
  return [bootstrap, { eval: true }]
}

/** `cuda: <first line of its error>; dml: ...`: why each provider could not start. */
function describeFailures(failures: readonly { provider: string; message: string }[]): string {
  return failures.map((failure) => `${failure.provider}: ${failure.message.split('\n')[0]}`).join('; ')
}

/**
 * A fixed set of inference workers, one batch each at a time. A worker that dies fails only the batch it was
 * running and is replaced; `close()` lets running batches finish, then releases every session.
 */
export class WorkerPool {
  readonly size: number
  /** The provider the workers run on, and the model's declared inputs, known once `start()` resolves. */
  provider: ExecutionProvider = 'cpu'
  inputNames: string[] = []
  /** Workers that died (not closed) and were replaced, counted as the replacement starts. */
  restarts = 0
  private readonly workers: PoolWorker[] = []
  private readonly waiters: { resolve: (worker: PoolWorker) => void; reject: (error: unknown) => void }[] = []
  /** Replacements of dead workers still starting: close() waits for them, or they would outlive the pool. */
  private readonly replacing = new Set<Promise<void>>()
  /** Every worker died and none could be replaced: runs fail at once with this instead of waiting for ever. */
  private broken: RerankError | undefined
  private readonly logger: Logger
  private closing = false
  private fallbackLogged = false

  constructor(private readonly options: WorkerPoolOptions) {
    this.size = options.size
    this.logger = options.logger ?? silentLogger
  }

  async start(): Promise<void> {
    const started = await Promise.allSettled(Array.from({ length: this.size }, () => this.spawn()))
    const failure = started.find((result) => result.status === 'rejected')
    if (failure) {
      await this.close()
      throw (failure as PromiseRejectedResult).reason
    }
  }

  /** Runs one batch on the next free worker; resolves with one raw score per row. */
  async run(batch: BatchTensors): Promise<Float64Array> {
    if (this.closing)
      throw new RerankError('overloaded', 'The model is shutting down', { retryAfterMs: 1000 })
    if (this.broken) throw this.broken
    const slot = await this.acquire()
    return new Promise<Float64Array>((resolve, reject) => {
      slot.reserved = false
      slot.busy = { resolve, reject }
      slot.runId++
      const message: ToWorker = { type: 'run', id: slot.runId, batch }
      const transfer = [
        batch.inputIds,
        batch.attentionMask,
        batch.tokenTypeIds,
        batch.positionIds,
        batch.lastIndex,
      ]
        .filter((array) => array !== undefined)
        .map((array) => array.buffer as ArrayBuffer)
      slot.worker.postMessage(message, transfer)
    })
  }

  /** Number of workers running a batch right now. */
  get busyCount(): number {
    return this.workers.filter((slot) => slot.busy).length
  }

  async close(): Promise<void> {
    this.closing = true
    // A replacement that became ready after the splice below would keep its thread, and the process, alive.
    await Promise.allSettled(this.replacing)
    const workers = this.workers.splice(0)
    await Promise.all(
      workers.map(async (slot) => {
        while (slot.busy) await new Promise((resolve) => setTimeout(resolve, 5))
        await new Promise<void>((resolve) => {
          slot.worker.once('exit', () => resolve())
          slot.worker.postMessage({ type: 'close' } satisfies ToWorker)
          // A worker that cannot close cleanly within a second is stopped.
          setTimeout(() => void slot.worker.terminate(), 1000).unref()
        })
      }),
    )
  }

  /**
   * Test hook: makes a worker die mid-batch (after its current or next run, before answering it), by
   * process.exit or by an uncaught error. Not terminate(): stopping a thread inside onnxruntime's run aborts the
   * whole process, which is no test of recovery.
   */
  crashWorker(index: number, how: WorkerCrash = 'exit'): void {
    this.workers[index]?.worker.postMessage({ type: 'crash-after-run', how } satisfies ToWorker)
  }

  private spawn(): Promise<void> {
    const [entry, mode] = workerEntry()
    const worker = new Worker(entry, { ...mode, workerData: this.options.config })
    const slot: PoolWorker = { worker, reserved: false, busy: undefined, runId: 0 }
    return new Promise<void>((resolve, reject) => {
      let ready = false
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            ready = true
            this.onReady(message.provider, message.inputNames, message.failures)
            this.workers.push(slot)
            this.release(slot)
            resolve()
            return
          case 'fatal':
            reject(this.startError(message.message, message.failures))
            return
          case 'result':
          case 'error':
            this.settle(slot, message)
            return
          case 'closed':
            return
        }
      })
      // An uncaught error in the worker comes before its exit: the exit's message says what it was.
      let uncaught: Error | undefined
      worker.on('error', (error) => {
        uncaught = error
        if (!ready) reject(error)
      })
      worker.on('exit', (code) => {
        const index = this.workers.indexOf(slot)
        if (index >= 0) this.workers.splice(index, 1)
        if (!ready || this.closing) return
        const running = slot.busy
        slot.busy = undefined
        const why = uncaught ? `: ${uncaught.message}` : ''
        this.logger.error('inference worker died; replacing it', {
          model: this.options.name,
          exitCode: code,
          ...(uncaught && { error: uncaught.message }),
        })
        running?.reject(new RerankError('internal', `Inference worker exited with code ${code}${why}`))
        this.restarts++
        const replacement = this.spawn()
          .catch((error) => {
            this.logger.error('could not replace inference worker', { error: String(error) })
            // The last one gone: batches waiting for a worker (and later ones) would wait for ever.
            if (this.workers.length > 0 || this.replacing.size > 1) return
            const why = error instanceof Error ? error.message : String(error)
            this.broken = new RerankError('internal', `No inference worker is running: ${why}`)
            for (const waiter of this.waiters.splice(0)) waiter.reject(this.broken)
          })
          .finally(() => this.replacing.delete(replacement))
        this.replacing.add(replacement)
      })
    })
  }

  private onReady(
    provider: ExecutionProvider,
    inputNames: string[],
    failures: { provider: string; message: string }[],
  ) {
    // Every worker probes; the fallback is logged once per pool.
    if (failures.length > 0 && !this.fallbackLogged) {
      this.fallbackLogged = true
      const why = describeFailures(failures)
      this.logger.warn(`device fallback to ${provider}`, { model: this.options.name, reason: why })
    }
    this.provider = provider
    this.inputNames = inputNames
  }

  private startError(message: string, failures: { provider: string; message: string }[]): RerankError {
    const detail = describeFailures(failures)
    return new RerankError(
      'internal',
      `Could not start the model on ${this.options.config.providers.join(' or ')}: ${detail || message}`,
    )
  }

  private settle(slot: PoolWorker, message: Extract<FromWorker, { type: 'result' | 'error' }>) {
    const running = slot.busy
    if (!running || message.id !== slot.runId) return
    slot.busy = undefined
    if (message.type === 'result') running.resolve(message.raw)
    else running.reject(new RerankError('internal', `Inference failed: ${message.message}`))
    this.release(slot)
  }

  private acquire(): Promise<PoolWorker> {
    const free = this.workers.find((candidate) => !candidate.busy && !candidate.reserved)
    if (free) {
      free.reserved = true
      return Promise.resolve(free)
    }
    return new Promise<PoolWorker>((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  private release(slot: PoolWorker) {
    const waiter = this.waiters.shift()
    if (!waiter) return
    slot.reserved = true
    waiter.resolve(slot)
  }
}
