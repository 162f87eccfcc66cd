import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RerankError } from '@rerank-kit/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalReranker } from './local-reranker'
import { recordingLogger } from './test-support/recording-logger'
import { fixturesDir, referenceScorer, sigmoid } from './test-support/reference-scorer'

// Faults in the local engine, with the real fixture model in real worker threads: a worker dying in the middle
// of a batch (process.exit, or an uncaught error) and a model whose files cannot load. Each in-flight request
// must end with an answer or a clear error, and the engine must go on scoring exactly afterwards.

const model = join(fixturesDir, 'tiny-bert-reranker')
const query = 'what causes the seasons on earth'
const documents = [
  'The tilt of the earth axis causes the seasons as the planet moves around the sun.',
  'Bananas are a good source of potassium.',
  'In summer the sun is higher in the sky and days are longer.',
  'The stock market fell sharply on monday.',
  'Seasons',
  'Winter is cold because sunlight hits the ground at a low angle.',
]

let reference: Awaited<ReturnType<typeof referenceScorer>>
beforeAll(async () => {
  reference = await referenceScorer('tiny-bert-reranker')
})
afterAll(async () => {
  await reference.close()
})

/** Every score equals sigmoid(the independent reference logit) of its own document. */
async function expectExactScores(results: { index: number; score: number }[], docs: readonly string[]) {
  expect(results.map((result) => result.index).sort()).toEqual(docs.map((_, i) => i))
  for (const result of results) {
    const expected = sigmoid(await reference.encoderLogit(query, docs[result.index]!))
    expect(Math.abs(result.score - expected), `document ${result.index}`).toBeLessThan(1e-6)
  }
}

/** Runs an ES module script (source imports) in a child process; its exit and everything it printed. */
async function runScript(script: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@rerank-kit/source', '--input-type=module', '--eval', script],
    { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  )
  clearTimeout(guard)
  return { code, signal, output }
}

describe('an inference worker crashing mid-batch', () => {
  it.each([
    ['exit', /^Inference worker exited with code 70$/],
    ['throw', /^Inference worker exited with code 1: inference worker crash \(test hook\)$/],
  ] as const)(
    'by %s: the request of that batch fails clearly; the replacement scores exactly',
    async (how, message) => {
      const { logger, lines } = recordingLogger()
      const reranker = await LocalReranker.create({
        models: [{ model, name: 'bert', device: 'cpu', workers: 1, maxBatchSize: 4 }],
        logger,
      })
      try {
        // The hook arms the idle worker: it dies after running the next batch, before answering it.
        reranker.engine('bert').crashWorker(0, how)
        const error = await reranker.rerank({ query, documents }).catch((e: unknown) => e)
        expect(RerankError.isInstance(error)).toBe(true)
        expect((error as RerankError).code).toBe('internal')
        expect((error as RerankError).message).toMatch(message)
        const died = lines.filter((line) => line.message === 'inference worker died; replacing it')
        expect(died).toHaveLength(1)
        expect(died[0]!.level).toBe('error')
        expect(died[0]!.fields?.exitCode).toBe(how === 'exit' ? 70 : 1)
        // The failed request's other pairs left the queue with it; the next requests run on the replacement.
        expect(reranker.stats().bert!.queuedPairs).toBe(0)
        // Counted for /metrics (rerank_kit_engine_worker_restarts_total).
        expect(reranker.stats().bert!.workerRestarts).toBe(1)
        for (let round = 0; round < 2; round++) {
          await expectExactScores((await reranker.rerank({ query, documents })).results, documents)
        }
        expect(reranker.isReady).toBe(true)
      } finally {
        await reranker.close()
      }
    },
  )

  it('pairs of several requests in the crashed batch are retried once, each request alone, and answered exactly', async () => {
    const { logger, lines } = recordingLogger()
    const reranker = await LocalReranker.create({
      // A long wait for a full batch puts both requests' pairs into one batch.
      models: [{ model, name: 'bert', device: 'cpu', workers: 1, maxBatchSize: 64, maxWaitMs: 200 }],
      logger,
    })
    try {
      reranker.engine('bert').crashWorker(0)
      const first = documents.slice(0, 3)
      const second = documents.slice(3)
      const [a, b] = await Promise.all([
        reranker.rerank({ query, documents: first }),
        reranker.rerank({ query, documents: second }),
      ])
      await expectExactScores(a.results, first)
      await expectExactScores(b.results, second)
      expect(lines.filter((line) => line.message === 'inference worker died; replacing it')).toHaveLength(1)
      // Two successful batches after the crash: one per request (the retries do not mix requests).
      const stats = reranker.stats().bert!
      expect(stats.batches).toBe(2)
      expect(stats.pairs).toBe(6)
    } finally {
      await reranker.close()
    }
  })

  it('close() right after a crash waits for the replacement worker and stops it: the process exits', async () => {
    // In a child process: a worker thread left running keeps a process alive, which only its exit shows.
    const script = `
      import { LocalReranker } from ${JSON.stringify(join(import.meta.dirname, 'local-reranker.ts'))}
      const reranker = await LocalReranker.create({
        models: [{ model: ${JSON.stringify(model)}, name: 'bert', device: 'cpu', workers: 1 }],
      })
      reranker.engine('bert').crashWorker(0)
      const error = await reranker.rerank({ query: 'q', documents: ['a', 'b'] }).catch((e) => e)
      await reranker.close()
      process.stdout.write(error.message)
    `
    const { code, signal, output } = await runScript(script)
    // Killed by the guard (SIGKILL) means it hung after close().
    expect({ code, signal, output }).toEqual({
      code: 0,
      signal: null,
      output: 'Inference worker exited with code 70',
    })
  })
})

describe('a worker that cannot be replaced', () => {
  it('when its model file broke meanwhile: the next requests fail clearly instead of waiting for ever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rerank-kit-breaking-model-'))
    cpSync(model, dir, { recursive: true })
    const { logger, lines } = recordingLogger()
    const reranker = await LocalReranker.create({
      models: [{ model: dir, name: 'bert', device: 'cpu', workers: 1 }],
      logger,
    })
    try {
      // The running session has the model in memory; a replacement would read the file again.
      writeFileSync(join(dir, 'onnx/model.onnx'), 'not an ONNX protobuf')
      reranker.engine('bert').crashWorker(0)
      const crashed = await reranker.rerank({ query, documents }).catch((e: unknown) => e)
      expect((crashed as RerankError).message).toBe('Inference worker exited with code 70')
      // Sent while the replacement starts (it then waits for a worker that never comes) or after it failed.
      const noWorker =
        /^No inference worker is running: Could not start the model on cpu: cpu: .*Protobuf parsing failed/
      for (let i = 0; i < 2; i++) {
        const error = await reranker.rerank({ query, documents }).catch((e: unknown) => e)
        expect((error as RerankError).code).toBe('internal')
        expect((error as RerankError).message).toMatch(noWorker)
      }
      expect(lines.map((line) => line.message)).toContain('could not replace inference worker')
    } finally {
      await reranker.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('a model that cannot load', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  /** A copy of the fixture model with one file replaced. */
  function brokenCopy(file: string, content: string | Buffer): string {
    const dir = mkdtempSync(join(tmpdir(), 'rerank-kit-broken-model-'))
    dirs.push(dir)
    cpSync(model, dir, { recursive: true })
    writeFileSync(join(dir, file), content)
    return dir
  }

  it('a corrupt ONNX file: create() rejects naming the device and the parse failure; rerank() says the same', async () => {
    const dir = brokenCopy('onnx/model.onnx', Buffer.from('this is not an ONNX protobuf at all'))
    const reranker = new LocalReranker({
      models: [{ model: dir, name: 'broken', device: 'cpu', workers: 2 }],
    })
    const error = await reranker.ready().catch((e: unknown) => e)
    expect(RerankError.isInstance(error)).toBe(true)
    expect((error as RerankError).code).toBe('internal')
    expect((error as RerankError).message).toMatch(
      /^Could not start the model on cpu: cpu: .*[Pp]rotobuf parsing failed/,
    )
    expect(reranker.isReady).toBe(false)
    // A request to it fails with the same reason instead of waiting for ever.
    await expect(reranker.rerank({ query, documents })).rejects.toBe(error)
    await reranker.close()
  })

  it('a corrupt tokenizer.json: the error names the model and what is wrong', async () => {
    const dir = brokenCopy('tokenizer.json', '{"model": ')
    const error = await LocalReranker.create({
      models: [{ model: dir, name: 'broken', device: 'cpu', workers: 1 }],
    }).catch((e: unknown) => e)
    expect(RerankError.isInstance(error)).toBe(true)
    expect((error as RerankError).message).toMatch(/^Could not load model "broken": .*JSON/)
  })
})

describe('device auto in a process of its own', () => {
  it('prints nothing while an accelerator that cannot start falls back: onnxruntime logs nothing to stderr', async () => {
    // onnxruntime's native logger writes to the process's stderr, which only a child process shows.
    const script = `
      import { LocalReranker } from ${JSON.stringify(join(import.meta.dirname, 'local-reranker.ts'))}
      const reranker = await LocalReranker.create({ models: [{ model: ${JSON.stringify(model)}, workers: 1 }] })
      const { results } = await reranker.rerank({ query: 'q', documents: ['a'] })
      process.stdout.write(reranker.engine().provider + ' ' + results.length)
      await reranker.close()
    `
    const { code, signal, output } = await runScript(script)
    // cpu here (no CUDA libraries); cuda on a machine that has them. Either way, only the script's own line.
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(output).toMatch(/^(cpu|cuda|dml|coreml) 1$/)
  })
})
