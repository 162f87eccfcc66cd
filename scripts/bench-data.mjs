#!/usr/bin/env node
// pnpm bench:data — the two inputs of the local-engine benchmarks, put into bench-data/ (git-ignored), where
// `pnpm bench:model` and `pnpm bench:core` look for them:
//   bench-data/scifact/                          corpus.jsonl, queries.jsonl: SciFact in BEIR's layout, from
//                                                BEIR's public zip (CC BY-NC 2.0: never committed)
//   bench-data/ms-marco-MiniLM-L-6-v2-tokenizer/ config.json and the tokenizer files of ms-marco-MiniLM-L-6-v2,
//                                                from the Hugging Face hub (no weights: bench:model makes random ones)
// Plain Node (>= 20.19), no other program: the zip is read with node:zlib. Whatever is already there is kept.
//
//   pnpm bench:data                                       # download both (HF_ENDPOINT replaces https://huggingface.co)
//   pnpm bench:data --scifact-from <dir> --tokenizer-from <dir>    # copy from folders that already hold them
//   BENCH_SCIFACT_DIR=<dir> BENCH_TOKENIZER_DIR=<dir> pnpm bench:data                # the same
//   pnpm bench:data --out <dir>                           # somewhere else (the benchmarks only read bench-data/)
//
// Every failure is one line on stderr and exit code 1.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, join, relative, resolve } from 'node:path'
import { crc32, inflateRawSync } from 'node:zlib'

const SCIFACT_URL =
  process.env.BENCH_SCIFACT_URL ??
  'https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip'
const HF_ENDPOINT = (process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '')
const TOKENIZER_REPO = 'Xenova/ms-marco-MiniLM-L-6-v2'
// Where each input goes and its files: shared with bench:model and the benchmarks that read them.
const layout = JSON.parse(readFileSync(new URL('./bench-data-layout.json', import.meta.url), 'utf8'))
const DOWNLOAD_TIMEOUT_MS = 5 * 60_000

class Failure extends Error {}

const repo = resolve(import.meta.dirname, '..')
// pnpm runs root scripts in the repository root: relative folders are taken from where the command was typed.
const typedIn = process.env.INIT_CWD ?? process.cwd()

function parseArgs(argv) {
  const known = new Set(['--scifact-from', '--tokenizer-from', '--out'])
  const options = {}
  const args = argv.filter((arg) => arg !== '--')
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i], args[i + 1]]
    if (!known.has(name)) throw new Failure(`unknown option ${name} (known: ${[...known].join(', ')})`)
    if (value === undefined || value.startsWith('--')) throw new Failure(`${name} needs a folder`)
    options[name.slice(2)] = resolve(typedIn, value)
  }
  return options
}

/** A layout folder (`bench-data/<name>`) in the repository, or `<name>` under `--out`. */
const within = (out, dir) => (out === undefined ? join(repo, dir) : join(out, basename(dir)))

const shown = (path) => {
  const fromRepo = relative(repo, path)
  return fromRepo && !fromRepo.startsWith('..') ? fromRepo : path
}

/** Writes next to the target and renames, so an interrupted run never leaves a file that counts as present. */
function writeAtomically(file, bytes) {
  const partial = `${file}.partial`
  writeFileSync(partial, bytes)
  renameSync(partial, file)
}

async function download(url, fromOption) {
  let response
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' })
  } catch (error) {
    const cause = error.cause?.message ?? error.message
    throw new Failure(
      `could not download ${url}: ${cause} (offline? ${fromOption} <dir> copies a local folder instead)`,
    )
  }
  if (!response.ok)
    throw new Failure(`could not download ${url}: HTTP ${response.status} ${response.statusText}`.trim())
  try {
    return Buffer.from(await response.arrayBuffer())
  } catch (error) {
    throw new Failure(`could not download ${url}: ${error.cause?.message ?? error.message}`)
  }
}

/** The named entries of a zip file (stored or deflated, as BEIR's are), by base name. */
function unzipEntries(zip, wanted, source) {
  const found = new Map()
  // The end-of-central-directory record: 22 bytes plus a comment of at most 65,535.
  let end = -1
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 65_535); at--) {
    if (zip.readUInt32LE(at) === 0x06054b50) {
      end = at
      break
    }
  }
  if (end < 0) throw new Failure(`${source} is not a zip file`)
  const count = zip.readUInt16LE(end + 10)
  let at = zip.readUInt32LE(end + 16)
  for (let entry = 0; entry < count; entry++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Failure(`${source}: damaged zip central directory`)
    const method = zip.readUInt16LE(at + 10)
    const crc = zip.readUInt32LE(at + 16)
    const compressedSize = zip.readUInt32LE(at + 20)
    const nameLength = zip.readUInt16LE(at + 28)
    const headerOffset = zip.readUInt32LE(at + 42)
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength)
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32)
    const base = name.split('/').pop()
    // BEIR's zip is scifact/corpus.jsonl, scifact/queries.jsonl, scifact/qrels/*.tsv: take the top-level files.
    if (!wanted.includes(base) || name.split('/').length > 2 || found.has(base)) continue
    const dataStart =
      headerOffset + 30 + zip.readUInt16LE(headerOffset + 26) + zip.readUInt16LE(headerOffset + 28)
    const data = zip.subarray(dataStart, dataStart + compressedSize)
    const bytes = method === 0 ? data : method === 8 ? inflateRawSync(data) : undefined
    if (bytes === undefined)
      throw new Failure(`${source}: ${name} uses zip method ${method}, not stored or deflated`)
    if (crc32(bytes) !== crc) throw new Failure(`${source}: ${name} fails its CRC check (damaged download?)`)
    found.set(base, bytes)
  }
  const missing = wanted.filter((file) => !found.has(file))
  if (missing.length > 0) throw new Failure(`${source} holds no ${missing.join(' or ')}`)
  return found
}

/** Fills `target` with `files`: kept if all there, else copied from `from` or fetched by `fetchAll`. */
async function provide({ label, target, files, from, fromOption, fetchAll }) {
  const absent = files.filter((file) => !existsSync(join(target, file)))
  if (absent.length === 0) {
    console.log(`${label}: already in ${shown(target)}, kept (delete the folder to fetch it again)`)
    return
  }
  if (from !== undefined) {
    const lacking = absent.filter((file) => !existsSync(join(from, file)))
    if (lacking.length > 0) {
      throw new Failure(
        `${from} lacks ${lacking.join(', ')} (${fromOption} must name a folder holding ${files.join(', ')})`,
      )
    }
    // Read and write rather than copy, so the copies do not inherit a read-only mode from the source.
    mkdirSync(target, { recursive: true })
    for (const file of absent) writeAtomically(join(target, file), readFileSync(join(from, file)))
    console.log(`${label}: copied ${absent.join(', ')} from ${from} into ${shown(target)}`)
    return
  }
  const fetched = await fetchAll(absent)
  mkdirSync(target, { recursive: true })
  for (const file of absent) writeAtomically(join(target, file), fetched.get(file))
  console.log(`${label}: downloaded ${absent.join(', ')} into ${shown(target)}`)
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const fromEnv = (name) => (process.env[name] ? resolve(typedIn, process.env[name]) : undefined)
  const scifactFrom = options['scifact-from'] ?? fromEnv('BENCH_SCIFACT_DIR')
  const tokenizerFrom = options['tokenizer-from'] ?? fromEnv('BENCH_TOKENIZER_DIR')
  for (const [from, name] of [
    [scifactFrom, '--scifact-from / BENCH_SCIFACT_DIR'],
    [tokenizerFrom, '--tokenizer-from / BENCH_TOKENIZER_DIR'],
  ]) {
    if (from !== undefined && !existsSync(from)) throw new Failure(`${from} does not exist (${name})`)
  }

  await provide({
    label: 'SciFact corpus (CC BY-NC 2.0)',
    target: within(options.out, layout.scifact.dir),
    files: layout.scifact.files,
    from: scifactFrom,
    fromOption: '--scifact-from / BENCH_SCIFACT_DIR',
    fetchAll: async (files) =>
      unzipEntries(await download(SCIFACT_URL, '--scifact-from'), files, SCIFACT_URL),
  })
  await provide({
    label: 'ms-marco-MiniLM-L-6-v2 tokenizer',
    target: within(options.out, layout.tokenizer.dir),
    files: layout.tokenizer.files,
    from: tokenizerFrom,
    fromOption: '--tokenizer-from / BENCH_TOKENIZER_DIR',
    fetchAll: async (files) => {
      const fetched = new Map()
      for (const file of files) {
        fetched.set(
          file,
          await download(`${HF_ENDPOINT}/${TOKENIZER_REPO}/resolve/main/${file}`, '--tokenizer-from'),
        )
      }
      return fetched
    },
  })
}

try {
  await main()
} catch (error) {
  if (!(error instanceof Failure)) throw error
  // One line, even where a cause carries a newline.
  process.stderr.write(`bench:data: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`)
  process.exitCode = 1
}
