import { RerankError } from '@rerank-kit/protocol'

/** A unit of work: one (query, document-chunk) pair, `length` tokens long unpadded. */
export interface ScheduledItem {
  length: number
}

export interface BatchStats {
  size: number
  /** Padded tokens: longest item x size. */
  paddedTokens: number
  realTokens: number
  /** Requests that share this batch. */
  jobs: number
  /** How long the batch's oldest item waited in the queue. */
  queuedMs: number
  runMs: number
}

/**
 * When one submitted job's pairs waited and ran (`performance.now()` times), filled in by `submit` when the
 * caller passes one. `firstStartAt` and `lastEndAt` stay NaN while no batch of the job has started or finished.
 */
export interface JobTimes {
  /** When the job entered the queue. */
  submittedAt: number
  /** When the first batch holding one of its pairs started running (a batch that then failed included). */
  firstStartAt: number
  /** When the batch that completed its last pair finished. */
  lastEndAt: number
}

export interface BatchSchedulerOptions<I extends ScheduledItem> {
  /** Cap on padded tokens per batch (longest x count): bounds memory and keeps padding waste visible. */
  maxBatchTokens: number
  maxBatchSize: number
  /** While a batch is not full, wait at most this long (since its oldest item arrived) for more items. */
  maxWaitMs: number
  /** Past this many queued items a request is refused at once with `overloaded`. */
  maxQueuedItems: number
  /**
   * Past this expected wait (queued items over the measured drain rate) a request is refused at once too: a
   * count alone cannot know how long a queue takes to drain, and an accepted request must finish before its
   * deadline. Unset: no limit in time.
   */
  maxQueueWaitMs?: number
  /**
   * While the scheduler idles, the drain rate measured under load loses half its weight every this many ms
   * (towards the batches' own speed): a rate measured during a burst that starved the main thread is stale once
   * the burst is over, and kept refusing requests long after. Default 5 s.
   */
  idleHalfLifeMs?: number
  /** Batches run at the same time (the number of workers). */
  concurrency: number
  runBatch: (items: I[]) => Promise<Float64Array>
  onBatch?: (stats: BatchStats) => void
}

interface Job<I> {
  items: I[]
  raw: Float64Array
  remaining: number
  settled: boolean
  resolve: (raw: Float64Array) => void
  reject: (error: unknown) => void
  detach?: () => void
  times?: JobTimes
}

interface Pending<I> {
  item: I
  job: Job<I>
  /** Index of the item in its job. */
  slot: number
  arrivedAt: number
  seq: number
  /** Set when a shared batch failed: the item is retried in a batch of its own job only. */
  isolated: boolean
}

/** Batches measured before the expected wait may refuse work (see expectedWaitMs). */
const trustedAfterBatches = 3

/** See BatchSchedulerOptions.idleHalfLifeMs. */
const defaultIdleHalfLifeMs = 5000

/**
 * Dynamic batching across requests. Work items are pairs, not requests, so a 1,000-document request and fifty
 * small ones share batches. A batch is built around the oldest waiting item (so nothing starves) and grown with
 * the items closest to it in length (so padding stays small), up to a padded-token budget and a size cap.
 */
export class BatchScheduler<I extends ScheduledItem> {
  private pending: Pending<I>[] = []
  private inFlight = 0
  private seq = 0
  private timer: NodeJS.Timeout | undefined
  private idleWaiters: (() => void)[] = []
  /**
   * The admission estimate counts tokens, not pairs: a pair of 500 tokens costs fifty of 10. Rates are in
   * real (unpadded) tokens per ms. `pendingTokens` is the sum of the queued items' lengths.
   */
  private pendingTokens = 0
  /**
   * Tokens per ms one batch runs at: a running sum and weight, each batch weighed by how full it was. Small
   * batches run far below the speed of full ones (fixed costs per batch), and a queue long enough to matter
   * drains in full batches: five 2-pair requests measured alone made a 10,000-pair request look 25 s long.
   */
  private throughputSum = 0
  private throughputWeight = 0
  /** Tokens per ms actually drained while work was waiting (wall clock between completions, EWMA). */
  private drainPerMs = 0
  /** Mean tokens per item submitted (EWMA): the estimate for requests not tokenized yet. */
  private meanItemTokens = 0
  private lastCompletion = 0
  /** When the scheduler last became idle (nothing queued or running), for the decay of the drain rate. */
  private idleSince: number | undefined
  /** Batches whose speed has been measured: below `trustedAfterBatches`, no estimate refuses anything. */
  private measuredBatches = 0
  private backlogged = false

  constructor(private readonly options: BatchSchedulerOptions<I>) {}

  get queuedItems(): number {
    return this.pending.length
  }

  get runningBatches(): number {
    return this.inFlight
  }

  /**
   * Resolves with one raw score per item, in the order given. `times`, when given, is filled in with when the
   * job was queued, when its first batch started and when its last one finished.
   */
  submit(items: I[], signal?: AbortSignal, times?: JobTimes): Promise<Float64Array> {
    if (signal?.aborted) return Promise.reject(new RerankError('aborted', 'The request was aborted'))
    if (items.length === 0) return Promise.resolve(new Float64Array(0))
    const tokens = items.reduce((sum, item) => sum + item.length, 0)
    const refused = this.refusal(items.length, 0, tokens)
    if (refused) return Promise.reject(refused)
    this.wake()
    const mean = tokens / items.length
    this.meanItemTokens = this.meanItemTokens === 0 ? mean : 0.8 * this.meanItemTokens + 0.2 * mean
    this.pendingTokens += tokens
    return new Promise<Float64Array>((resolve, reject) => {
      const job: Job<I> = {
        items,
        raw: new Float64Array(items.length),
        remaining: items.length,
        settled: false,
        resolve,
        reject,
      }
      const now = performance.now()
      if (times) {
        times.submittedAt = now
        times.firstStartAt = Number.NaN
        times.lastEndAt = Number.NaN
        job.times = times
      }
      items.forEach((item, slot) => {
        this.pending.push({ item, job, slot, arrivedAt: now, seq: this.seq++, isolated: false })
      })
      if (signal) {
        const onAbort = () => this.abort(job)
        signal.addEventListener('abort', onAbort, { once: true })
        job.detach = () => signal.removeEventListener('abort', onAbort)
      }
      this.pump()
    })
  }

  /**
   * Why `count` more items would be refused now, if they would: more than the queue can ever hold (413), more
   * than it has room for once `reserved` items (announced, not yet submitted) arrive, or more work than it
   * drains within `maxQueueWaitMs` (503). `tokens` is the items' total length, when known; before tokenizing
   * it is estimated from the mean item length seen so far.
   */
  refusal(count: number, reserved = 0, tokens?: number): RerankError | undefined {
    const { maxQueuedItems, maxQueueWaitMs } = this.options
    if (count > maxQueuedItems) {
      return new RerankError(
        'payload_too_large',
        `The request has ${count} pairs; at most ${maxQueuedItems} fit the queue`,
      )
    }
    const ahead = this.pending.length + reserved
    if (ahead + count > maxQueuedItems) {
      return new RerankError('overloaded', `The queue is full (${this.pending.length} pairs waiting)`, {
        retryAfterMs: this.retryAfterMs(),
      })
    }
    // Never refused into an empty queue: the wait is a forecast of the work ahead, and there is none. (A
    // request that alone would exceed the wait was refused, with "0 pairs waiting", again and again.)
    if (maxQueueWaitMs === undefined || ahead === 0) return undefined
    const mean = this.meanItemTokens || 1
    const work = this.pendingTokens + reserved * mean + (tokens ?? count * mean)
    const wait = this.expectedWaitMs(work)
    if (wait > maxQueueWaitMs) {
      return new RerankError(
        'overloaded',
        `The queue is full (${this.pending.length} pairs waiting, about ${Math.ceil(wait / 1000)} s of work)`,
        { retryAfterMs: this.retryAfterMs() },
      )
    }
    return undefined
  }

  /** True when the queue is at 90% of its limit, in items or in expected wait: new requests are likely refused. */
  get saturated(): boolean {
    const { maxQueuedItems, maxQueueWaitMs } = this.options
    if (this.pending.length >= 0.9 * maxQueuedItems) return true
    return maxQueueWaitMs !== undefined && this.expectedWaitMs(this.pendingTokens) >= 0.9 * maxQueueWaitMs
  }

  /** Tokens per ms a batch runs at (see throughputSum). */
  private get throughput(): number {
    return this.throughputWeight > 0 ? this.throughputSum / this.throughputWeight : 0
  }

  /**
   * How long `tokens` queued tokens take to drain: at the rate measured while work was waiting, else (nothing
   * measured yet) at the batches' own speed on every worker, the optimistic bound. Zero (unknown) until a few
   * batches have been measured: a batch's time is taken on the main thread, so the first batch of a burst
   * also counts the time the main thread spent reading the rest of the burst, and that one sample refused the
   * burst it was part of, on a slow machine, with the workers idle.
   */
  private expectedWaitMs(tokens: number): number {
    if (this.measuredBatches < trustedAfterBatches) return 0
    const drain = this.drainNow()
    const perMs = drain > 0 ? drain : this.throughput * this.options.concurrency
    return perMs > 0 ? tokens / perMs : 0
  }

  /** The drain rate, decayed towards the batches' own speed for the time the scheduler has been idle. */
  private drainNow(): number {
    if (this.idleSince === undefined || this.drainPerMs === 0) return this.drainPerMs
    const halfLife = this.options.idleHalfLifeMs ?? defaultIdleHalfLifeMs
    const kept = 0.5 ** ((performance.now() - this.idleSince) / halfLife)
    return kept * this.drainPerMs + (1 - kept) * this.throughput * this.options.concurrency
  }

  /** Work arrives: the decay of the idle stretch is kept, and stops. */
  private wake() {
    if (this.idleSince === undefined) return
    this.drainPerMs = this.drainNow()
    this.idleSince = undefined
  }

  /** Resolves once nothing is queued or running. */
  drain(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Come back once the queue has drained (1 s while nothing is measured yet), within [0.1 s, 30 s]. */
  private retryAfterMs(): number {
    const estimate = this.expectedWaitMs(this.pendingTokens) || 1000
    return Math.min(30_000, Math.max(100, Math.ceil(estimate)))
  }

  private abort(job: Job<I>) {
    // Its queued pairs leave before they are computed; pairs already running finish and are discarded.
    this.fail(job, new RerankError('aborted', 'The request was aborted'))
    this.notifyIdle()
  }

  private fail(job: Job<I>, error: unknown) {
    if (job.settled) return
    job.settled = true
    job.detach?.()
    this.pending = this.pending.filter((entry) => {
      if (entry.job !== job) return true
      this.pendingTokens -= entry.item.length
      return false
    })
    job.reject(error)
  }

  private pump() {
    clearTimeout(this.timer)
    this.timer = undefined
    while (this.inFlight < this.options.concurrency && this.pending.length > 0) {
      const { batch, full } = this.takeBatch()
      const oldest = Math.min(...batch.map((entry) => entry.arrivedAt))
      const waited = performance.now() - oldest
      if (!full && waited < this.options.maxWaitMs) {
        // Put the batch back and wait a little for more pairs to arrive, never past the oldest one's deadline.
        this.pending.push(...batch)
        for (const entry of batch) this.pendingTokens += entry.item.length
        this.timer = setTimeout(() => this.pump(), this.options.maxWaitMs - waited)
        return
      }
      void this.dispatch(batch, waited)
    }
  }

  /** Removes and returns the next batch: the oldest item plus its nearest neighbours by length. */
  private takeBatch(): { batch: Pending<I>[]; full: boolean } {
    let anchor = this.pending[0]!
    for (const entry of this.pending) if (entry.seq < anchor.seq) anchor = entry
    const { maxBatchTokens, maxBatchSize } = this.options
    // The batch grows from the anchor through its neighbours in the candidates ordered by (length, seq): at
    // most maxBatchSize - 1 on each side, taken from buckets of one length (only the buckets reached get sorted).
    // Not a sort of the whole queue: a full queue holds tens of thousands of pairs, and sorting it for every
    // batch took most of the main thread under overload (7 ms a batch at 32,000 queued), starving the work.
    const buckets: Pending<I>[][] = []
    for (const entry of this.pending) {
      // Isolated retries batch only with their own request's pairs, and never join other batches.
      if (!(anchor.isolated ? entry.isolated && entry.job === anchor.job : !entry.isolated)) continue
      const bucket = buckets[entry.item.length]
      if (bucket) bucket.push(entry)
      else buckets[entry.item.length] = [entry]
    }
    const bySeq = (a: Pending<I>, b: Pending<I>) => a.seq - b.seq
    const reach = maxBatchSize - 1
    // Longer side: the rest of the anchor's bucket (the anchor is the oldest of all), then longer lengths.
    const above: Pending<I>[] = []
    for (let length = anchor.item.length; length < buckets.length && above.length < reach; length++) {
      const bucket = buckets[length]?.sort(bySeq) ?? []
      for (const entry of bucket) {
        if (above.length === reach) break
        if (entry !== anchor) above.push(entry)
      }
    }
    // Shorter side, nearest first: shorter lengths downwards, each from its newest pair.
    const below: Pending<I>[] = []
    for (let length = anchor.item.length - 1; length >= 0 && below.length < reach; length--) {
      const bucket = buckets[length]?.sort(bySeq) ?? []
      for (let i = bucket.length - 1; i >= 0 && below.length < reach; i--) below.push(bucket[i]!)
    }
    const sorted = [...below.reverse(), anchor, ...above]
    let low = sorted.indexOf(anchor)
    let high = low
    let longest = anchor.item.length
    let full = false
    while (high - low + 1 < maxBatchSize) {
      const count = high - low + 1
      const shorter = low > 0 ? sorted[low - 1]! : undefined
      const longer = high < sorted.length - 1 ? sorted[high + 1]! : undefined
      // Padding each choice adds: a shorter item is padded up to `longest`; a longer one pads everyone else.
      const shorterFits = shorter !== undefined && (count + 1) * longest <= maxBatchTokens
      const longerFits = longer !== undefined && (count + 1) * longer.item.length <= maxBatchTokens
      if (!shorterFits && !longerFits) {
        full = shorter !== undefined || longer !== undefined
        break
      }
      const shorterCost = shorterFits ? longest - shorter!.item.length : Number.POSITIVE_INFINITY
      const longerCost = longerFits ? (longer!.item.length - longest) * count : Number.POSITIVE_INFINITY
      if (shorterCost <= longerCost) low--
      else {
        high++
        longest = longer!.item.length
      }
    }
    if (high - low + 1 >= maxBatchSize) full = true
    const batch = sorted.slice(low, high + 1)
    const taken = new Set(batch)
    // In place: a new array of the whole queue per batch is garbage the size of the queue.
    let kept = 0
    for (const entry of this.pending) if (!taken.has(entry)) this.pending[kept++] = entry
    this.pending.length = kept
    for (const entry of batch) this.pendingTokens -= entry.item.length
    return { batch, full }
  }

  private async dispatch(batch: Pending<I>[], queuedMs: number) {
    this.inFlight++
    const started = performance.now()
    const jobs = new Set(batch.map((entry) => entry.job))
    for (const job of jobs) {
      if (job.times && Number.isNaN(job.times.firstStartAt)) job.times.firstStartAt = started
    }
    try {
      const raw = await this.options.runBatch(batch.map((entry) => entry.item))
      const runMs = performance.now() - started
      const longest = Math.max(...batch.map((entry) => entry.item.length))
      const realTokens = batch.reduce((sum, entry) => sum + entry.item.length, 0)
      const { maxBatchSize, maxBatchTokens } = this.options
      // How full the batch was, by size or by padded tokens: a small batch says little of a full one's speed.
      const fullness = Math.min(
        1,
        Math.max(batch.length / maxBatchSize, (longest * batch.length) / maxBatchTokens),
      )
      const kept = 0.8 ** fullness
      this.throughputSum = kept * this.throughputSum + fullness * (realTokens / Math.max(runMs, 0.001))
      this.throughputWeight = kept * this.throughputWeight + fullness
      this.measuredBatches++
      // The drain rate counts only stretches where work was waiting: idle time says nothing about speed. It
      // includes what batch run times miss (the main thread's tokenizing and dispatch under load).
      const now = performance.now()
      if (this.backlogged) {
        const drained = realTokens / Math.max(now - this.lastCompletion, 0.001)
        // The first sample is weighed against the batches' own speed rather than trusted alone: one completion
        // delayed by a busy main thread is not the rate the queue drains at. Small batches weigh less.
        const prior = this.drainPerMs === 0 ? this.throughput * this.options.concurrency : this.drainPerMs
        const weight = 0.2 * fullness
        this.drainPerMs = (1 - weight) * prior + weight * drained
      }
      this.lastCompletion = now
      this.backlogged = this.pending.length > 0
      this.options.onBatch?.({
        size: batch.length,
        paddedTokens: longest * batch.length,
        realTokens,
        jobs: jobs.size,
        queuedMs,
        runMs,
      })
      batch.forEach((entry, row) => {
        const job = entry.job
        if (job.settled) return
        job.raw[entry.slot] = raw[row]!
        if (--job.remaining === 0) {
          job.settled = true
          if (job.times) job.times.lastEndAt = now
          job.detach?.()
          job.resolve(job.raw)
        }
      })
    } catch (error) {
      if (jobs.size > 1) {
        // One request's pairs may have broken the batch: retry each request on its own so only that one fails.
        for (const entry of batch) {
          if (entry.job.settled) continue
          this.pending.push({ ...entry, isolated: true })
          this.pendingTokens += entry.item.length
        }
      } else {
        for (const job of jobs) this.fail(job, error)
      }
    } finally {
      this.inFlight--
      this.pump()
      this.notifyIdle()
    }
  }

  private notifyIdle() {
    if (this.pending.length > 0 || this.inFlight > 0) return
    this.idleSince ??= performance.now()
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
