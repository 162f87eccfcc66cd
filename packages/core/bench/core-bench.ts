import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { AutoModelForSequenceClassification, AutoTokenizer } from '@huggingface/transformers'
import * as ort from 'onnxruntime-node'
import { buildBatchTensors } from '../src/batching/batch-tensors'
import { LocalReranker } from '../src/local-reranker'
import { loadTokenizer } from '../src/tokenization/load-tokenizer'
import { encodeEncoderPairs, type PairItem } from '../src/tokenization/pair-encoder'
import { pairLayoutOf } from '../src/tokenization/pair-layout'
import { modelDir, scifactTexts } from './bench-inputs'

// Defaults are the setup BENCHMARKS.md reports; `-- --docs 200 --rounds 3` gives a quick run.
const flag = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}
const documentCount = flag('docs', 1000)
const rounds = flag('rounds', 20)
const documents = scifactTexts('corpus.jsonl', documentCount)
const queries = scifactTexts('queries.jsonl', 64)
const query = queries[0]!
const cores = availableParallelism()
const maxLength = 512

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function timed<T>(run: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now()
  const value = await run()
  return [performance.now() - started, value]
}

// (a) The limit: the same pairs pre-tokenized, sorted by length, on one session with every core, best batch size.
async function limit(): Promise<{ pairsPerSecond: number; batchSize: number }> {
  const tokenizer = await loadTokenizer(modelDir)
  const { items } = await encodeEncoderPairs(
    { query, documents },
    tokenizer,
    pairLayoutOf(tokenizer.tokenizerJson),
    maxLength,
    {
      maxChunksPerDoc: 1,
      chunkOverlap: 0,
    },
  )
  const sorted = [...items].sort((a, b) => a.length - b.length)
  // onnxruntime has one logger per process, set by the first session: this one, made before LocalReranker's
  // workers, would leave it at 'warning', and their CUDA probe (device auto) would print an ERROR line.
  ort.env.logLevel = 'fatal'
  const session = await ort.InferenceSession.create(join(modelDir, 'onnx/model.onnx'), {
    intraOpNumThreads: cores,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    enableMemPattern: false, // as the engine's workers: per-shape memory plans only grow
  })
  const layout = {
    padId: tokenizer.padId,
    tokenTypes: true,
    positionIds: false,
    padding: 'right' as const,
    lastIndex: false,
  }
  const runAll = async (size: number, pairs = sorted) => {
    for (let start = 0; start < pairs.length; start += size) {
      const batch = buildBatchTensors(pairs.slice(start, start + size) as PairItem[], layout)
      const dims = [batch.batchSize, batch.sequenceLength]
      await session.run({
        input_ids: new ort.Tensor('int64', batch.inputIds, dims),
        attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
        token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds!, dims),
      })
    }
  }
  await runAll(16, sorted.slice(-64)) // warm-up on the longest pairs, not timed
  let best = { pairsPerSecond: 0, batchSize: 0 }
  for (const size of [4, 8, 16, 32]) {
    const [ms] = await timed(() => runAll(size))
    const pairsPerSecond = (sorted.length * 1000) / ms
    console.log(`  limit, batch ${size}: ${pairsPerSecond.toFixed(0)} pairs/s`)
    if (pairsPerSecond > best.pairsPerSecond) best = { pairsPerSecond, batchSize: size }
  }
  await session.release()
  return best
}

// (c) What the `rerankers` npm package does: transformers.js, input order, padded batches of 32, main thread.
async function naive(): Promise<number> {
  const tokenizer = await AutoTokenizer.from_pretrained(modelDir, { local_files_only: true })
  const model = await AutoModelForSequenceClassification.from_pretrained(modelDir, {
    local_files_only: true,
    dtype: 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: cores },
  })
  const runAll = async () => {
    for (let start = 0; start < documents.length; start += 32) {
      const batch = documents.slice(start, start + 32)
      const inputs = tokenizer(
        batch.map(() => query),
        { text_pair: batch, padding: true, truncation: true, max_length: maxLength },
      )
      await model(inputs)
    }
  }
  await model(tokenizer([query], { text_pair: [documents[0]!], truncation: true, max_length: maxLength }))
  const [ms] = await timed(runAll)
  await model.dispose()
  return (documents.length * 1000) / ms
}

async function main() {
  console.log(`rerank-kit core benchmark: ${cpus()[0]?.model} x${cores}, node ${process.version}`)
  console.log(
    `model: MiniLM-L6-sized (random weights), ${documents.length} SciFact abstracts, max_length ${maxLength}, ${rounds} rounds`,
  )

  const best = await limit()
  const naivePairs = await naive()

  const reranker = await LocalReranker.create({ models: [{ model: modelDir, name: 'minilm', maxLength }] })
  await reranker.rerank({ query, documents: documents.slice(0, 64) })

  // (b) One request of all documents, repeated `rounds` times: the median round is (b), the event-loop delay
  // over all rounds is (e), and RSS from the end of the first round to the end of the last is (f).
  const delay = monitorEventLoopDelay({ resolution: 1 })
  const runs: number[] = []
  let rssStart = 0
  for (let i = 0; i < rounds; i++) {
    delay.enable()
    const [ms] = await timed(() => reranker.rerank({ query, documents }))
    delay.disable()
    runs.push(ms)
    if (i === 0) rssStart = process.memoryUsage().rss
  }
  const rssEnd = process.memoryUsage().rss
  const rssGrowth = ((rssEnd - rssStart) / rssStart) * 100
  const localPairs = (documents.length * 1000) / median(runs)
  const loopP99 = delay.percentile(99) / 1e6

  // (d) 64 concurrent requests of 16 documents each.
  const [concurrentMs] = await timed(() =>
    Promise.all(
      Array.from({ length: 64 }, (_, r) =>
        reranker.rerank({
          query: queries[r]!,
          documents: documents.slice((r * 16) % documents.length).slice(0, 16),
        }),
      ),
    ),
  )
  const concurrentPairs = (64 * 16 * 1000) / concurrentMs

  const stats = reranker.stats().minilm!
  await reranker.close()

  const rows: [string, string, string][] = [
    [
      '(a) limit: sorted, pre-tokenized, one session',
      `${best.pairsPerSecond.toFixed(0)} pairs/s`,
      `batch ${best.batchSize}`,
    ],
    [
      `(b) LocalReranker, 1 request x ${documents.length} docs`,
      `${localPairs.toFixed(0)} pairs/s`,
      `b/a ${(localPairs / best.pairsPerSecond).toFixed(2)}`,
    ],
    [
      '(c) naive transformers.js, input order, 32',
      `${naivePairs.toFixed(0)} pairs/s`,
      `b/c ${(localPairs / naivePairs).toFixed(2)}`,
    ],
    [
      '(d) 64 concurrent requests x 16 docs',
      `${concurrentPairs.toFixed(0)} pairs/s`,
      `d/b ${(concurrentPairs / localPairs).toFixed(2)}`,
    ],
    ['(e) event-loop delay p99 during (b)', `${loopP99.toFixed(1)} ms`, ''],
    [
      `(f) RSS growth over ${rounds} rounds of (b)`,
      `${rssGrowth.toFixed(1)} %`,
      `${(rssEnd / 2 ** 20).toFixed(0)} MiB at end`,
    ],
    [
      '    mean batch size / padding ratio',
      `${stats.meanBatchSize.toFixed(1)}`,
      `${stats.paddingRatio.toFixed(3)}`,
    ],
  ]
  for (const [what, value, note] of rows) console.log(`${what.padEnd(48)} ${value.padStart(16)}   ${note}`)
  console.log(
    JSON.stringify({
      limit_pairs_per_s: Math.round(best.pairsPerSecond),
      local_pairs_per_s: Math.round(localPairs),
      naive_pairs_per_s: Math.round(naivePairs),
      concurrent_pairs_per_s: Math.round(concurrentPairs),
      event_loop_p99_ms: Number(loopP99.toFixed(2)),
      rss_growth_pct: Number(rssGrowth.toFixed(2)),
    }),
  )
}

await main()
