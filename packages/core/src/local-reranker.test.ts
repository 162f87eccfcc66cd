import { join } from 'node:path'
import { mxbaiRerankV2Template, qwen3RerankerTemplate, RerankError } from '@rerank-kit/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acceleratorAbsence } from './accelerator-absence'
import { LocalReranker } from './local-reranker'
import { recordingLogger } from './test-support/recording-logger'
import { fixturesDir, referenceScorer, sigmoid } from './test-support/reference-scorer'

// End to end with real ONNX fixture models run by onnxruntime-node in worker threads. Expected values come
// from the independent reference scorer (transformers.js tokenization + one direct ORT run per pair).

const query = 'what causes the seasons on earth'
const documents = [
  'The tilt of the earth axis causes the seasons as the planet moves around the sun.',
  'Bananas are a good source of potassium.',
  'In summer the sun is higher in the sky and days are longer.',
  'The stock market fell sharply on monday.',
  'Seasons',
  '',
]

const fixture = (name: string) => join(fixturesDir, name)

describe.each([
  ['tiny-bert-reranker', 'one logit, token_type_ids'],
  ['tiny-xlmr-reranker', 'one logit, no token_type_ids'],
  ['tiny-two-label', 'two labels'],
])('%s (%s)', (model) => {
  let reranker: LocalReranker
  let reference: Awaited<ReturnType<typeof referenceScorer>>

  beforeAll(async () => {
    reranker = await LocalReranker.create({ models: [{ model: fixture(model), name: model, workers: 1 }] })
    reference = await referenceScorer(model)
  })
  afterAll(async () => {
    await reranker.close()
    await reference.close()
  })

  it('scores equal sigmoid(reference logit) within 1e-6, sorted, with real token usage', async () => {
    const response = await reranker.rerank({ query, documents })
    expect(response.model).toBe(model)
    expect(response.results.map((result) => result.index).sort()).toEqual([0, 1, 2, 3, 4, 5])
    let tokens = 0
    // transformers.js reads text_pair '' as "no pair"; the empty document is checked on its own below.
    for (const result of response.results.filter((r) => documents[r.index] !== '')) {
      const logit = await reference.encoderLogit(query, documents[result.index]!)
      expect(Math.abs(result.score - sigmoid(logit)), `document ${result.index}`).toBeLessThan(1e-6)
      tokens += reference.tokenizer(query, { text_pair: documents[result.index]! }).input_ids.dims[1]!
    }
    for (let i = 1; i < response.results.length; i++) {
      expect(response.results[i - 1]!.score).toBeGreaterThanOrEqual(response.results[i]!.score)
    }
    // An empty document is still a pair (Python's text_pair='' layout): BERT `[CLS] q [SEP] [SEP]`,
    // XLM-R `<s> q </s> </s> </s>`.
    const single = Array.from(reference.tokenizer(query).input_ids.data as BigInt64Array, Number)
    const separator = single.at(-1)!
    const emptyIds = [...single, ...(model === 'tiny-xlmr-reranker' ? [separator, separator] : [separator])]
    const logits = await reference.runIds(
      emptyIds,
      emptyIds.map((_, i) => (i < single.length ? 0 : 1)),
    )
    const emptyLogit = logits.length === 1 ? logits[0]! : logits[1]! - logits[0]!
    const emptyResult = response.results.find((r) => documents[r.index] === '')!
    expect(Math.abs(emptyResult.score - sigmoid(emptyLogit))).toBeLessThan(1e-6)
    tokens += emptyIds.length
    expect(response.usage?.totalTokens).toBe(tokens)
    // The fixture spreads scores: a double sigmoid or a softmax over one logit would bunch or pin them.
    const scores = response.results.map((result) => result.score)
    expect(Math.max(...scores) - Math.min(...scores)).toBeGreaterThan(0.05)
  })

  it('reports where the time went: tokenizing, queueing and inference, within the call', async () => {
    const before = performance.now()
    const response = await reranker.rerank({ query, documents })
    const elapsed = performance.now() - before
    const { tokenizationMs, queueMs, inferenceMs } = response.timings ?? {}
    for (const part of [tokenizationMs, queueMs, inferenceMs]) {
      expect(part).toBeTypeOf('number')
      expect(part).toBeGreaterThanOrEqual(0)
    }
    // The parts do not overlap, so they add up to at most the call's own time.
    expect(tokenizationMs! + queueMs! + inferenceMs!).toBeLessThanOrEqual(elapsed)
    expect(inferenceMs).toBeGreaterThan(0)
  })

  it('rawScores returns the logit', async () => {
    const response = await reranker.rerank({ query, documents: documents.slice(0, 3), rawScores: true })
    for (const result of response.results) {
      const logit = await reference.encoderLogit(query, documents[result.index]!)
      expect(Math.abs(result.score - logit)).toBeLessThan(1e-5)
    }
  })

  it("a pair's score does not depend on its batch (alone vs. in 64 pairs of very different lengths)", async () => {
    const alone = (await reranker.rerank({ query, documents: [documents[0]!] })).results[0]!.score
    const mixed = Array.from({ length: 64 }, (_, i) =>
      i === 37 ? documents[0]! : 'filler words about many other topics '.repeat((i * 7) % 40),
    )
    const inBatch = (await reranker.rerank({ query, documents: mixed })).results.find(
      (r) => r.index === 37,
    )!.score
    expect(Math.abs(alone - inBatch)).toBeLessThan(1e-5)
  })
})

describe('truncation and chunking (tiny-bert-reranker)', () => {
  let reranker: LocalReranker
  let reference: Awaited<ReturnType<typeof referenceScorer>>
  const maxLength = 64

  beforeAll(async () => {
    reranker = await LocalReranker.create({
      models: [{ model: fixture('tiny-bert-reranker'), maxLength, workers: 1 }],
    })
    reference = await referenceScorer('tiny-bert-reranker')
  })
  afterAll(async () => {
    await reranker.close()
    await reference.close()
  })

  const encode = (text: string) => reference.tokenizer.encode(text, { add_special_tokens: false })
  const special = (token: string) => encode(token)[0]!

  it('serves a folder given by its absolute path under the folder name, never the path', async () => {
    expect(reranker.modelNames).toEqual(['tiny-bert-reranker'])
    const answer = await reranker.rerank({ query, documents: ['Seasons'], model: 'tiny-bert-reranker' })
    expect(answer.model).toBe('tiny-bert-reranker')
    expect(JSON.stringify(answer)).not.toContain(fixturesDir)
  })

  it('keeps the query and the closing [SEP] when a long document is cut', async () => {
    const long = 'the sun warms the land and the sea '.repeat(40)
    const [result] = (await reranker.rerank({ query, documents: [long] })).results
    const q = encode(query)
    const kept = encode(long).slice(0, maxLength - q.length - 3)
    const ids = [special('[CLS]'), ...q, special('[SEP]'), ...kept, special('[SEP]')]
    expect(ids).toHaveLength(maxLength)
    const typeIds = ids.map((_, i) => (i < q.length + 2 ? 0 : 1))
    const [logit] = await reference.runIds(ids, typeIds)
    expect(Math.abs(result!.score - sigmoid(logit!))).toBeLessThan(1e-6)
  })

  it('refuses an over-long document when truncate is false', async () => {
    const error = await reranker
      .rerank({ query, documents: ['short', 'word '.repeat(200)], truncate: false })
      .catch((e: unknown) => e)
    expect(RerankError.isInstance(error)).toBe(true)
    expect((error as RerankError).status).toBe(400)
    expect((error as RerankError).param).toBe('documents.1')
  })

  it('scores a chunked document as the max over its chunks', async () => {
    const filler = 'bananas are yellow fruit and people eat them '.repeat(12)
    const document = `${filler} ${documents[0]}`
    const q = encode(query)
    const budget = maxLength - q.length - 3
    const chunks: number[][] = []
    const docIds = encode(document)
    for (let start = 0; start < docIds.length && chunks.length < 10; start += budget) {
      chunks.push(docIds.slice(start, start + budget))
    }
    expect(chunks.length).toBeGreaterThan(2)
    const chunkScores: number[] = []
    for (const chunk of chunks) {
      const ids = [special('[CLS]'), ...q, special('[SEP]'), ...chunk, special('[SEP]')]
      const [logit] = await reference.runIds(
        ids,
        ids.map((_, i) => (i < q.length + 2 ? 0 : 1)),
      )
      chunkScores.push(sigmoid(logit!))
    }
    const chunked = await reranker.rerank({ query, documents: [document], maxChunksPerDoc: 10 })
    expect(Math.abs(chunked.results[0]!.score - Math.max(...chunkScores))).toBeLessThan(1e-6)
    const truncated = await reranker.rerank({ query, documents: [document] })
    expect(Math.abs(truncated.results[0]!.score - chunkScores[0]!)).toBeLessThan(1e-6)
    expect(chunked.usage?.totalTokens).toBeGreaterThan(truncated.usage!.totalTokens!)
  })
})

describe('decoder reranker (tiny-qwen3-reranker)', () => {
  let reranker: LocalReranker
  let reference: Awaited<ReturnType<typeof referenceScorer>>

  beforeAll(async () => {
    reranker = await LocalReranker.create({
      models: [{ model: fixture('tiny-qwen3-reranker'), name: 'qwen3', maxLength: 160, workers: 1 }],
    })
    reference = await referenceScorer('tiny-qwen3-reranker')
  })
  afterAll(async () => {
    await reranker.close()
    await reference.close()
  })

  it('scores p(yes) from the yes/no logits of the whole prompt, with and without an instruction', async () => {
    for (const instruction of [undefined, 'Find passages about astronomy']) {
      const response = await reranker.rerank({
        query,
        documents: documents.slice(0, 4),
        ...(instruction && { instruction }),
      })
      for (const result of response.results) {
        const document = documents[result.index]!
        const logit = await reference.decoderLogit(
          { ...qwen3RerankerTemplate, head: (q) => qwen3RerankerTemplate.head(q, instruction) },
          query,
          document,
        )
        expect(Math.abs(result.score - sigmoid(logit)), document).toBeLessThan(1e-6)
      }
    }
  })

  it('keeps the template suffix when a long document is clipped', async () => {
    const long = 'the moon has no weather at all because it has no air '.repeat(30)
    const [result] = (await reranker.rerank({ query, documents: [long] })).results
    const encode = (text: string) => reference.tokenizer.encode(text, { add_special_tokens: false })
    const head = encode(qwen3RerankerTemplate.head(query).trimEnd())
    const tail = encode(qwen3RerankerTemplate.tail)
    const body = encode(` ${long}`).slice(0, 160 - head.length - tail.length)
    const ids = [...head, ...body, ...tail]
    expect(ids).toHaveLength(160)
    const logit = await reference.decoderLogitOf(ids, qwen3RerankerTemplate)
    expect(Math.abs(result!.score - sigmoid(logit))).toBeLessThan(1e-6)
  })

  it('runs the mxbai-rerank-v2 template and its 0/1 answers when the family says so', async () => {
    // The same tiny causal LM, driven as mxbai-rerank-v2: its prompt, and p("1") from the "1"/"0" logits.
    const mxbai = await LocalReranker.create({
      models: [
        { model: fixture('tiny-qwen3-reranker'), family: 'mxbai-rerank-v2', maxLength: 512, workers: 1 },
      ],
    })
    try {
      for (const instruction of [undefined, 'Prefer physics']) {
        const response = await mxbai.rerank({
          query,
          documents: documents.slice(0, 3),
          ...(instruction && { instruction }),
        })
        for (const result of response.results) {
          const template = {
            ...mxbaiRerankV2Template,
            head: (q: string) => mxbaiRerankV2Template.head(q, instruction),
          }
          const logit = await reference.decoderLogit(template, query, documents[result.index]!)
          expect(Math.abs(result.score - sigmoid(logit))).toBeLessThan(1e-6)
        }
      }
    } finally {
      await mxbai.close()
    }
  })

  it('is batch invariant', async () => {
    const alone = (await reranker.rerank({ query, documents: [documents[2]!] })).results[0]!.score
    const mixed = Array.from({ length: 24 }, (_, i) => (i === 5 ? documents[2]! : 'words '.repeat(i * 3)))
    const inBatch = (await reranker.rerank({ query, documents: mixed })).results.find(
      (r) => r.index === 5,
    )!.score
    expect(Math.abs(alone - inBatch)).toBeLessThan(1e-5)
  })
})

describe('serving several models, devices, and the lifecycle', () => {
  it('picks a model by name or alias; an unknown model is model_not_found listing the served ones', async () => {
    const reranker = await LocalReranker.create({
      models: [
        { model: fixture('tiny-bert-reranker'), name: 'bert', aliases: ['default'], workers: 1 },
        { model: fixture('tiny-xlmr-reranker'), name: 'xlmr', workers: 1 },
      ],
    })
    try {
      expect(reranker.modelNames).toEqual(['bert', 'default', 'xlmr'])
      const viaDefault = await reranker.rerank({ query, documents })
      const viaAlias = await reranker.rerank({ query, documents, model: 'default' })
      const viaXlmr = await reranker.rerank({ query, documents, model: 'xlmr' })
      expect(viaDefault.model).toBe('bert')
      expect(viaAlias.results).toEqual(viaDefault.results)
      expect(viaXlmr.model).toBe('xlmr')
      expect(viaXlmr.results).not.toEqual(viaDefault.results)
      const error = await reranker.rerank({ query, documents, model: 'gpt' }).catch((e: unknown) => e)
      expect((error as RerankError).code).toBe('model_not_found')
      expect((error as RerankError).message).toBe(
        'Model "gpt" is not served here. Served models: bert, default, xlmr',
      )
    } finally {
      await reranker.close()
    }
  })

  it('device auto skips the accelerators that cannot start, saying why, and falls back to cpu; an explicit cuda fails clearly', async () => {
    // CUDA's provider libraries cannot be installed here, and this machine has no Vulkan loader: auto leaves both
    // out (one info line each, nothing tried, no native warning). Where one could be tried and failed, one warning.
    const absence = acceleratorAbsence()
    const skipped = (['cuda', 'webgpu'] as const).filter((provider) => absence(provider) !== undefined)
    const { logger, lines } = recordingLogger()
    const reranker = await LocalReranker.create({
      models: [{ model: fixture('tiny-bert-reranker'), device: 'auto', workers: 2 }],
      logger,
    })
    try {
      const skips = lines.filter((line) => / skipped$/.test(line.message))
      expect(skips.map((line) => [line.level, line.message, line.fields?.reason])).toEqual(
        skipped.map((provider) => ['info', `device auto: ${provider} skipped`, absence(provider)]),
      )
      const provider = reranker.stats()['tiny-bert-reranker']!.provider
      const tried = (['cuda', 'webgpu'] as const).filter((candidate) => !skipped.includes(candidate))
      const warnings = lines.filter((line) => line.level === 'warn')
      if (provider === 'cpu' && tried.length > 0) {
        expect(warnings.map((line) => line.message)).toEqual(['device fallback to cpu'])
        expect(String(warnings[0]!.fields?.reason)).toMatch(new RegExp(`^${tried[0]}: `))
      } else {
        expect(warnings).toEqual([])
        expect(provider).toBe(tried[0] ?? 'cpu')
      }
    } finally {
      await reranker.close()
    }
    const explicit = new LocalReranker({
      models: [{ model: fixture('tiny-bert-reranker'), device: 'cuda', workers: 1 }],
    })
    const error = await explicit.ready().catch((e: unknown) => e)
    expect(RerankError.isInstance(error)).toBe(true)
    expect((error as RerankError).message).toMatch(/^Could not start the model on cuda: cuda: /)
    if (absence('cuda') !== undefined)
      expect((error as RerankError).message).toContain(`(${absence('cuda')})`)
  })

  it('device webgpu: scores within 1e-3 of cpu where an adapter exists, else fails at start naming why', async ({
    annotate,
  }) => {
    const cpu = await LocalReranker.create({
      models: [{ model: fixture('tiny-bert-reranker'), device: 'cpu', workers: 1 }],
    })
    const webgpu = new LocalReranker({
      models: [{ model: fixture('tiny-bert-reranker'), device: 'webgpu', workers: 1 }],
    })
    try {
      const started = await webgpu.ready().then(
        () => undefined,
        (error: unknown) => error,
      )
      if (started !== undefined) {
        // No adapter here (no GPU; Dawn rejects Mesa's software rasterizer): one clear error, no fallback.
        expect(RerankError.isInstance(started)).toBe(true)
        expect((started as RerankError).message).toMatch(
          /^Could not start the model on webgpu: webgpu: .*(Failed to get a WebGPU adapter|adapter)/,
        )
        return
      }
      expect(webgpu.stats()['tiny-bert-reranker']!.provider).toBe('webgpu')
      const [onCpu, onGpu] = await Promise.all([
        cpu.rerank({ query, documents }),
        webgpu.rerank({ query, documents }),
      ])
      const scoreOf = (answer: typeof onCpu, index: number) =>
        answer.results.find((result) => result.index === index)!.score
      const difference = Math.max(...documents.map((_, i) => Math.abs(scoreOf(onCpu, i) - scoreOf(onGpu, i))))
      // Reported with the test's result (vitest annotations), not printed.
      await annotate(`webgpu vs cpu: max score difference ${difference}`)
      expect(difference).toBeLessThanOrEqual(1e-3)
    } finally {
      await Promise.all([cpu.close(), webgpu.close()])
    }
  })

  it('reports counters and batch events without printing', async () => {
    const batches: { model: string; size: number; paddedTokens: number; realTokens: number }[] = []
    const reranker = await LocalReranker.create({
      models: [{ model: fixture('tiny-bert-reranker'), name: 'bert', workers: 1 }],
      onBatch: (model, batch) => batches.push({ model, ...batch }),
    })
    try {
      await Promise.all([
        reranker.rerank({ query, documents }),
        reranker.rerank({ query, documents: documents.slice(0, 2) }),
      ])
      await expect(reranker.rerank({ query: '', documents })).rejects.toMatchObject({
        code: 'invalid_request',
      })
      const stats = reranker.stats().bert!
      expect(stats.requests).toBe(2)
      expect(stats.pairs).toBe(8)
      expect(stats.batches).toBe(batches.length)
      expect(batches.reduce((sum, batch) => sum + batch.size, 0)).toBe(8)
      expect(batches.every((batch) => batch.model === 'bert')).toBe(true)
      const padded = batches.reduce((sum, batch) => sum + batch.paddedTokens, 0)
      const real = batches.reduce((sum, batch) => sum + batch.realTokens, 0)
      expect(stats.paddingRatio).toBeCloseTo(padded / real, 10)
      expect([stats.tokens, stats.paddedTokens]).toEqual([real, padded])
      expect(stats.meanBatchSize).toBe(8 / batches.length)
      // The per-batch histograms: one observation per batch, counted in the first bucket at or above it.
      const cumulative = (values: number[], le: readonly number[]) =>
        le.map((bound) => values.filter((value) => value <= bound).length)
      const sizes = batches.map((batch) => batch.size)
      expect(stats.batchSize).toEqual({
        le: stats.batchSize.le,
        counts: cumulative(sizes, stats.batchSize.le),
        sum: 8,
        count: batches.length,
      })
      const ratios = batches.map((batch) => batch.paddedTokens / batch.realTokens)
      expect(stats.batchPaddingRatio.counts).toEqual(cumulative(ratios, stats.batchPaddingRatio.le))
      expect(stats.batchPaddingRatio.count).toBe(batches.length)
      expect(stats.batchPaddingRatio.sum).toBeCloseTo(
        ratios.reduce((sum, ratio) => sum + ratio, 0),
        10,
      )
      expect(stats.workerRestarts).toBe(0)
      expect(stats.pairsPerSecond).toBeGreaterThan(0)
      expect(stats.latencyMs.p50).toBeGreaterThan(0)
      expect(stats.queuedPairs).toBe(0)
      expect(stats.provider).toBe('cpu')
    } finally {
      await reranker.close()
    }
  })

  it('validates requests built in code like HTTP ones', async () => {
    const reranker = await LocalReranker.create({
      models: [{ model: fixture('tiny-bert-reranker'), workers: 1 }],
    })
    try {
      await expect(reranker.rerank({ query: ' ', documents })).rejects.toMatchObject({
        code: 'invalid_request',
      })
      await expect(reranker.rerank({ query, documents: [], topN: 1 })).rejects.toMatchObject({ status: 400 })
      const top = await reranker.rerank({ query, documents, topN: 2, returnDocuments: true })
      expect(top.results).toHaveLength(2)
      expect(top.results[0]!.document).toBe(documents[top.results[0]!.index])
    } finally {
      await reranker.close()
    }
  })

  it('refuses past the queue limit at once, and drops aborted work before it runs', async () => {
    const name = 'bert'
    const reranker = await LocalReranker.create({
      models: [
        { model: fixture('tiny-bert-reranker'), name, workers: 1, maxBatchSize: 4, maxQueuedPairs: 600 },
      ],
    })
    try {
      const many = Array.from({ length: 500 }, (_, i) => `${documents[i % 4]} number ${i} `.repeat(3))
      const big = reranker.rerank({ query, documents: many })
      while (reranker.stats()[name]!.queuedPairs === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      const started = performance.now()
      const refused = await reranker.rerank({ query, documents: many.slice(0, 200) }).catch((e: unknown) => e)
      expect(performance.now() - started).toBeLessThan(250)
      expect((refused as RerankError).code).toBe('overloaded')
      expect((refused as RerankError).retryAfterMs).toBeGreaterThan(0)
      const controller = new AbortController()
      const aborted = reranker.rerank({ query, documents: many.slice(0, 50) }, { signal: controller.signal })
      while (reranker.stats()[name]!.queuedPairs < 50) await new Promise((resolve) => setTimeout(resolve, 1))
      const pairsBefore = reranker.stats()[name]!.pairs
      controller.abort()
      await expect(aborted).rejects.toMatchObject({ code: 'aborted' })
      expect((await big).results).toHaveLength(500)
      // Only the big request's pairs were ever computed.
      expect(reranker.stats()[name]!.pairs).toBe(500)
      expect(pairsBefore).toBeLessThan(500)
    } finally {
      await reranker.close()
    }
  })

  it('keeps the host event loop responsive during a long scoring call', async () => {
    const reranker = await LocalReranker.create({
      models: [{ model: fixture('tiny-bert-reranker'), workers: 1 }],
    })
    try {
      const many = Array.from({ length: 2500 }, (_, i) => `${documents[i % 4]} and item ${i} `.repeat(4))
      let ticks = 0
      let worstGap = 0
      let last = performance.now()
      const timer = setInterval(() => {
        const now = performance.now()
        worstGap = Math.max(worstGap, now - last)
        last = now
        ticks++
      }, 5)
      const started = performance.now()
      await reranker.rerank({ query, documents: many })
      const elapsed = performance.now() - started
      clearInterval(timer)
      // The call spans many timer periods, and the timer kept its pace throughout.
      expect(elapsed).toBeGreaterThan(200)
      expect(ticks).toBeGreaterThan(elapsed / 5 / 3)
      // No stall anywhere near the call's length (inference on this thread would block for whole batches). The
      // bound grows with the call: on a busy 2-core CI machine, preemption alone sometimes passed a fixed 60 ms.
      expect(worstGap).toBeLessThan(Math.max(60, elapsed / 4))
    } finally {
      await reranker.close()
    }
  })

  it('a crashed worker fails only its in-flight request and is replaced', async () => {
    const { logger, lines } = recordingLogger()
    const reranker = await LocalReranker.create({
      models: [{ model: fixture('tiny-bert-reranker'), name: 'bert', workers: 1, maxBatchSize: 4 }],
      logger,
    })
    try {
      const inFlight = reranker.rerank({
        query,
        documents: Array.from({ length: 3000 }, (_, i) => `doc ${i} `.repeat(20)),
      })
      while (reranker.stats().bert!.batches < 3) await new Promise((resolve) => setTimeout(resolve, 1))
      reranker.engine('bert').crashWorker(0)
      const error = await inFlight.catch((e: unknown) => e)
      expect((error as RerankError).code).toBe('internal')
      expect(lines.some((line) => line.message === 'inference worker died; replacing it')).toBe(true)
      const after = await reranker.rerank({ query, documents })
      expect(after.results).toHaveLength(documents.length)
    } finally {
      await reranker.close()
    }
  })

  it('close() finishes queued requests, then refuses new ones', async () => {
    const reranker = await LocalReranker.create({
      models: [{ model: fixture('tiny-bert-reranker'), workers: 1 }],
    })
    const pending = reranker.rerank({ query, documents: Array.from({ length: 100 }, (_, i) => `text ${i}`) })
    const closing = reranker.close()
    expect((await pending).results).toHaveLength(100)
    await closing
    expect(reranker.isReady).toBe(false)
    await expect(reranker.rerank({ query, documents })).rejects.toMatchObject({ code: 'overloaded' })
  })
})
