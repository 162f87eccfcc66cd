import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, deflateRawSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The real script (`pnpm bench:data`) in its own node process, writing into temporary folders (--out), with its
// inputs copied from local folders or served by a local HTTP server in place of BEIR's and the Hugging Face hub.
const script = join(import.meta.dirname, 'bench-data.mjs')
const root = mkdtempSync(join(tmpdir(), 'bench-data-test-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const scifactFiles = {
  'corpus.jsonl': '{"_id":"1","title":"t","text":"an abstract"}\n',
  'queries.jsonl': '{"_id":"0","text":"a claim"}\n',
}
const tokenizerFiles = {
  'config.json': '{"model_type":"bert"}',
  'tokenizer.json': '{"model":{}}',
  'tokenizer_config.json': '{}',
  'special_tokens_map.json': '{}',
  'vocab.txt': '[PAD]\n[UNK]\n',
}

function folderWith(name: string, files: Record<string, string>): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  return dir
}

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderrLines: string[] }>((done) => {
    const child = execFile(
      process.execPath,
      [script, ...args],
      { env: { ...process.env, INIT_CWD: root, ...env }, timeout: 20_000 },
      (_error, stdout, stderr) =>
        done({ code: child.exitCode, stdout, stderrLines: stderr.split('\n').filter(Boolean) }),
    )
  })
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8')

/** A zip as BEIR's is laid out (scifact/…), with deflated and stored entries. */
function zipOf(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const [index, [name, text]] of Object.entries(entries).entries()) {
    const raw = Buffer.from(text)
    const method = index % 2 === 0 ? 8 : 0
    const data = method === 8 ? deflateRawSync(raw) : raw
    const nameBytes = Buffer.from(name)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(crc32(raw), 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(raw.length, 22)
    local.writeUInt16LE(nameBytes.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(crc32(raw), 16)
    central.writeUInt32LE(data.length, 20)
    central.writeUInt32LE(raw.length, 24)
    central.writeUInt16LE(nameBytes.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, nameBytes, data)
    centrals.push(central, nameBytes)
    offset += local.length + nameBytes.length + data.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(centrals.length / 2, 8)
  end.writeUInt16LE(centrals.length / 2, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

describe('scripts/bench-data.mjs (pnpm bench:data)', () => {
  it('is the root `pnpm bench:data`, and bench-data/ is git-ignored', () => {
    const { scripts } = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8'))
    expect(scripts['bench:data']).toBe('node scripts/bench-data.mjs')
    expect(readFileSync(join(import.meta.dirname, '../.gitignore'), 'utf8').split('\n')).toContain(
      '/bench-data',
    )
  })

  it('copies both inputs from local folders (options or env), then keeps them on the next run', async () => {
    const scifact = folderWith('src-scifact', scifactFiles)
    const tokenizer = folderWith('src-tokenizer', tokenizerFiles)
    const out = join(root, 'copied')
    const first = await run(['--out', out, '--scifact-from', scifact], { BENCH_TOKENIZER_DIR: tokenizer })
    expect(first.stderrLines).toEqual([])
    expect(first.code).toBe(0)
    for (const [file, text] of Object.entries(scifactFiles))
      expect(read(join(out, 'scifact'), file)).toBe(text)
    for (const [file, text] of Object.entries(tokenizerFiles)) {
      expect(read(join(out, 'ms-marco-MiniLM-L-6-v2-tokenizer'), file)).toBe(text)
    }
    expect(first.stdout).toContain(`copied corpus.jsonl, queries.jsonl from ${scifact}`)

    // Present: kept, even with no source and no network.
    const again = await run(['--out', out], {
      BENCH_SCIFACT_URL: 'http://nowhere.invalid/',
      HF_ENDPOINT: 'http://nowhere.invalid',
    })
    expect(again.code).toBe(0)
    expect(again.stdout.match(/already in .*, kept/g)).toHaveLength(2)
  })

  it('names a source folder that lacks a file in one line, and exits 1', async () => {
    const partial = folderWith('src-partial', { 'corpus.jsonl': scifactFiles['corpus.jsonl'] })
    const { code, stderrLines } = await run(['--out', join(root, 'partial'), '--scifact-from', partial])
    expect(code).toBe(1)
    expect(stderrLines).toEqual([
      `bench:data: ${partial} lacks queries.jsonl (--scifact-from / BENCH_SCIFACT_DIR must name a folder holding corpus.jsonl, queries.jsonl)`,
    ])
    const absent = await run(['--out', join(root, 'partial'), '--tokenizer-from', join(root, 'nowhere')])
    expect(absent.code).toBe(1)
    expect(absent.stderrLines).toEqual([
      `bench:data: ${join(root, 'nowhere')} does not exist (--tokenizer-from / BENCH_TOKENIZER_DIR)`,
    ])
  })

  describe('downloading', () => {
    let server: Server
    let base: string
    const zip = zipOf({
      'scifact/corpus.jsonl': scifactFiles['corpus.jsonl'],
      'scifact/qrels/test.tsv': 'query-id\tcorpus-id\tscore\n',
      'scifact/queries.jsonl': scifactFiles['queries.jsonl'],
    })
    beforeAll(async () => {
      server = createServer((request, response) => {
        const url = request.url ?? ''
        const file = url.match(/^\/hub\/Xenova\/ms-marco-MiniLM-L-6-v2\/resolve\/main\/(.+)$/)?.[1]
        if (url === '/beir/scifact.zip') response.end(zip)
        else if (file && file in tokenizerFiles)
          response.end(tokenizerFiles[file as keyof typeof tokenizerFiles])
        else response.writeHead(404, 'Not Found').end()
      })
      await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(() => new Promise<void>((closed) => server.close(() => closed())))

    it('unzips corpus.jsonl and queries.jsonl from the BEIR zip and fetches the tokenizer from HF_ENDPOINT', async () => {
      const out = join(root, 'downloaded')
      const { code, stdout, stderrLines } = await run(['--out', out], {
        BENCH_SCIFACT_URL: `${base}/beir/scifact.zip`,
        HF_ENDPOINT: `${base}/hub/`,
      })
      expect(stderrLines).toEqual([])
      expect(code).toBe(0)
      for (const [file, text] of Object.entries(scifactFiles))
        expect(read(join(out, 'scifact'), file)).toBe(text)
      for (const [file, text] of Object.entries(tokenizerFiles)) {
        expect(read(join(out, 'ms-marco-MiniLM-L-6-v2-tokenizer'), file)).toBe(text)
      }
      expect(stdout).toContain('downloaded corpus.jsonl, queries.jsonl')
    })

    it('names the URL and the cause in one line when a download fails, and writes nothing', async () => {
      const out = join(root, 'failed')
      const missing = await run(['--out', out], { BENCH_SCIFACT_URL: `${base}/beir/gone.zip` })
      expect(missing.code).toBe(1)
      expect(missing.stderrLines).toEqual([
        `bench:data: could not download ${base}/beir/gone.zip: HTTP 404 Not Found`,
      ])

      // A port that was free a moment ago: nothing listens there.
      const closed = createServer()
      await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening))
      const port = (closed.address() as AddressInfo).port
      await new Promise<void>((done) => closed.close(() => done()))
      const refused = await run(['--out', out], { BENCH_SCIFACT_URL: `http://127.0.0.1:${port}/scifact.zip` })
      expect(refused.code).toBe(1)
      expect(refused.stderrLines).toHaveLength(1)
      expect(refused.stderrLines[0]).toMatch(
        /^bench:data: could not download http:\/\/127\.0\.0\.1:\d+\/scifact\.zip: .*ECONNREFUSED.* \(offline\? --scifact-from <dir> copies a local folder instead\)$/,
      )
      expect(refused.stderrLines[0]).toContain(`127.0.0.1:${port}/scifact.zip`)
      expect(() => readFileSync(join(out, 'scifact', 'corpus.jsonl'))).toThrow()
    })
  })
})
