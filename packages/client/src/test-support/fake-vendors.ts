/**
 * Local fake servers that speak the wire formats of the remote rerank vendors (TEI, Infinity, Cohere, Jina,
 * Voyage, mixedbread), so RerankClient can be tested against real HTTP. Written from
 * /work/shared/reference/api-formats.md with hand-built JSON, on purpose independent of @rerank-kit/protocol:
 * the client is checked against a second implementation, not against itself.
 */
import { randomUUID } from 'node:crypto'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

export type FakeVendorKind = 'tei' | 'infinity' | 'cohere' | 'jina' | 'voyage' | 'mixedbread' | 'vllm'

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** Parsed JSON, or the raw string when the body is not JSON. */
  body: unknown
}

export interface FakeFault {
  /** Answer this status with the vendor's own error body. */
  status?: number
  /** Error message to put in the body. */
  message?: string
  /** Extra response headers, e.g. `{ 'retry-after': '1' }`. */
  headers?: Record<string, string>
  /** Wait before answering (with nothing else set: a slow success). */
  delayMs?: number
  /** Answer 200 with a JSON content type and a truncated body. */
  malformedJson?: boolean
  /** Answer 200 (or `status`) with exactly this JSON body. */
  body?: unknown
  /** Destroy the socket without any answer. */
  destroy?: boolean
}

export interface FakeVendorOptions {
  /** Requests without `Authorization: Bearer <apiKey>` get 401 in the vendor's error format. */
  apiKey?: string
  /** TEI's max_client_batch_size (default 32): more texts get 413. */
  maxBatchSize?: number
  /** Infinity classify: each input is cut from the right to this many chars before scoring. */
  maxInputChars?: number
  /** Infinity classify: one `LABEL_0` entry per input, sigmoid already applied. */
  singleLabel?: boolean
  /**
   * The fault for each request the `faults` queue does not cover (`number` counts every request from 0):
   * a backend that keeps failing the same way, or fails by a rule, as chaos tests need.
   */
  fault?: (request: RecordedRequest, number: number) => FakeFault | undefined
  /** Serve https with this certificate and key (PEM) instead of http: the url is then `https://127.0.0.1:PORT`. */
  tls?: { cert: string; key: string }
}

export interface FakeVendor {
  /** `http://127.0.0.1:PORT` (`https://` with `tls`), no trailing slash. */
  url: string
  requests: RecordedRequest[]
  /** Faults consumed one per incoming request, in order, before `options.fault` and normal handling. */
  faults: FakeFault[]
  /** Closes the server and all its connections. */
  close(): Promise<void>
}

// ---------------------------------------------------------------------------------------------------------
// Scoring: deterministic, so tests can assert absolute scores.

const tokens = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token !== '')

/** Fraction of the query's distinct word tokens found in the document, in [0, 1]; 0 for an empty query. */
export function fakeScore(query: string, document: string): number {
  const wanted = new Set(tokens(query))
  if (wanted.size === 0) return 0
  const present = new Set(tokens(document))
  let hits = 0
  for (const token of wanted) if (present.has(token)) hits++
  return hits / wanted.size
}

const logit = (probability: number): number => {
  const p = Math.min(0.99, Math.max(0.01, probability))
  return Math.log(p / (1 - p))
}

/** The raw score (logit) matching fakeScore, with p clamped to [0.01, 0.99] so it stays finite. */
export function fakeLogit(query: string, document: string): number {
  return logit(fakeScore(query, document))
}

interface Ranked {
  index: number
  score: number
}

/** Sorted by score desc, ties by index asc, cut to `top` when given. */
function rank(scores: number[], top?: number): Ranked[] {
  const ranked = scores
    .map((score, index) => ({ index, score }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
  return top === undefined ? ranked : ranked.slice(0, top)
}

const wordCount = (texts: string[]): number => texts.reduce((sum, text) => sum + tokens(text).length, 0)

// ---------------------------------------------------------------------------------------------------------
// Request validation. A VendorError without status becomes the vendor's bad-request status.

class VendorError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** TEI only: the error_type, when the status alone does not decide it. */
    readonly teiType?: string,
  ) {
    super(message)
  }
}

type JsonObject = Record<string, unknown>
type Document = string | JsonObject

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function requireString(body: JsonObject, field: string): string {
  const value = body[field]
  if (typeof value !== 'string') throw new VendorError(`${field}: expected a string`)
  return value
}

function optionalString(body: JsonObject, field: string): string | undefined {
  return body[field] === undefined ? undefined : requireString(body, field)
}

function requireStrings(body: JsonObject, field: string): string[] {
  const value = body[field]
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new VendorError(`${field}: expected an array of strings`)
  }
  return value
}

function requireDocuments(body: JsonObject, field: string): Document[] {
  const value = body[field]
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' || isObject(item))) {
    throw new VendorError(`${field}: expected an array of strings or objects`)
  }
  return value
}

function optionalBoolean(body: JsonObject, field: string, fallback: boolean): boolean {
  const value = body[field]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new VendorError(`${field}: expected a boolean`)
  return value
}

function optionalPositiveInt(body: JsonObject, field: string): number | undefined {
  const value = body[field]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new VendorError(`${field}: expected an integer >= 1`)
  }
  return value
}

function requireNonEmpty(items: unknown[], field: string): void {
  if (items.length === 0) throw new VendorError(`${field}: must not be empty`)
}

/** The text a document is scored on: the string, its rank fields joined by newlines, or its `text`. */
function documentText(document: Document, rankFields?: string[]): string {
  if (typeof document === 'string') return document
  if (rankFields !== undefined) {
    return rankFields
      .filter((field) => document[field] !== undefined && document[field] !== null)
      .map((field) => {
        const value = document[field]
        return typeof value === 'string' ? value : JSON.stringify(value)
      })
      .join('\n')
  }
  if (typeof document.text !== 'string') throw new VendorError('document objects need a string "text"')
  return document.text
}

// ---------------------------------------------------------------------------------------------------------
// Vendors: each route turns a validated body into a reply (or throws VendorError).

interface Reply {
  json: unknown
  headers?: Record<string, string>
}

type Route = (body: JsonObject, options: FakeVendorOptions) => Reply

function teiRerank(body: JsonObject, options: FakeVendorOptions): Reply {
  const query = requireString(body, 'query')
  const texts = requireStrings(body, 'texts')
  optionalBoolean(body, 'truncate', false)
  const direction = optionalString(body, 'truncation_direction')
  if (direction !== undefined && !['right', 'left', 'Right', 'Left'].includes(direction)) {
    throw new VendorError('truncation_direction: expected "right" or "left"')
  }
  const raw = optionalBoolean(body, 'raw_scores', false)
  const returnText = optionalBoolean(body, 'return_text', false)
  if (texts.length === 0) throw new VendorError('`texts` cannot be empty', 400, 'empty')
  const max = options.maxBatchSize ?? 32
  if (texts.length > max) {
    throw new VendorError(`batch size ${texts.length} > maximum allowed batch size ${max}`, 413, 'validation')
  }
  const score = raw ? fakeLogit : fakeScore
  const ranked = rank(texts.map((text) => score(query, text)))
  return {
    json: ranked.map(({ index, score }) =>
      returnText ? { index, score, text: texts[index] } : { index, score },
    ),
    headers: {
      'x-compute-time': '1',
      'x-compute-tokens': String(wordCount([query]) * texts.length + wordCount(texts)),
      'x-queue-time': '0',
      'x-inference-time': '1',
      'x-total-time': '1',
    },
  }
}

/** Infinity's common envelope fields; usage counts characters. */
function infinityEnvelope(object: string, model: string, characters: number) {
  return {
    object,
    model,
    usage: { prompt_tokens: characters, total_tokens: characters },
    id: `infinity-${randomUUID()}`,
    created: Math.floor(Date.now() / 1000),
  }
}

function infinityRerank(body: JsonObject): Reply {
  const model = optionalString(body, 'model') ?? 'default/not-specified'
  const query = requireString(body, 'query')
  const documents = requireStrings(body, 'documents')
  requireNonEmpty(documents, 'documents')
  const returnDocuments = optionalBoolean(body, 'return_documents', false)
  const score = optionalBoolean(body, 'raw_scores', false) ? fakeLogit : fakeScore
  const ranked = rank(
    documents.map((document) => score(query, document)),
    optionalPositiveInt(body, 'top_n'),
  )
  const characters = documents.reduce((sum, document) => sum + query.length + document.length, 0)
  const { object, ...rest } = infinityEnvelope('rerank', model, characters)
  return {
    json: {
      object,
      results: ranked.map(({ index, score }) => ({
        relevance_score: score,
        index,
        document: returnDocuments ? (documents[index] ?? null) : null,
      })),
      ...rest,
    },
  }
}

/** A decoder reranker prompt: fixed head, the pair, fixed tail; `pair` finds query and document in between. */
interface PromptTemplate {
  head: string
  tail: string
  pair: RegExp
  labels: { positive: string; negative: string }
}

const qwen3Template: PromptTemplate = {
  head:
    '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the ' +
    'Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n',
  tail: '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
  pair: /^<Instruct>: [\s\S]*?\n<Query>: ([\s\S]*?)\n<Document>: ([\s\S]*)$/,
  labels: { positive: 'yes', negative: 'no' },
}

const mxbaiTemplate: PromptTemplate = {
  head: '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\n',
  tail:
    '\nYou are a search relevance expert who evaluates how well documents match search queries. For each ' +
    'query-document pair, carefully analyze the semantic relationship between them, then provide your ' +
    'binary relevance judgment (0 for not relevant, 1 for relevant).\nRelevance:<|im_end|>\n<|im_start|>assistant\n',
  pair: /^(?:instruction: [\s\S]*?\n)?query: ([\s\S]*?)\ndocument: ([\s\S]*)$/,
  labels: { positive: '1', negative: '0' },
}

/** The model decides the template, as with a real converted classifier: a prompt for another model is noise. */
const templateFor = (model: string): PromptTemplate =>
  model.toLowerCase().includes('qwen') ? qwen3Template : mxbaiTemplate

/**
 * p(relevant) for one classifier input. Like a real classifier, a prompt whose tail was truncated away (or that
 * does not follow the model's template) silently gets a meaningless score: exactly 0.5 here.
 */
function classifyProbability(input: string, template: PromptTemplate, maxChars?: number): number {
  const prompt = maxChars === undefined ? input : input.slice(0, maxChars)
  if (!prompt.startsWith(template.head) || !prompt.endsWith(template.tail)) return 0.5
  const pair = template.pair.exec(prompt.slice(template.head.length, prompt.length - template.tail.length))
  if (pair === null) return 0.5
  return fakeScore(pair[1] ?? '', pair[2] ?? '')
}

function infinityClassify(body: JsonObject, options: FakeVendorOptions): Reply {
  const model = optionalString(body, 'model') ?? 'default/not-specified'
  const input = requireStrings(body, 'input')
  requireNonEmpty(input, 'input')
  if (input.length > 2048) throw new VendorError(`input: at most 2048 items, got ${input.length}`, 400)
  const raw = optionalBoolean(body, 'raw_scores', false)
  const template = templateFor(model)
  const data = input.map((text) => {
    const p = classifyProbability(text, template, options.maxInputChars)
    if (options.singleLabel) return [{ score: raw ? logit(p) : p, label: 'LABEL_0' }]
    const { positive, negative } = template.labels
    const entries = [
      { score: raw ? logit(p) : p, label: positive },
      { score: raw ? 0 : 1 - p, label: negative },
    ]
    // Stable sort: on a tie the positive label stays first.
    return entries.sort((a, b) => b.score - a.score)
  })
  const characters = input.reduce((sum, text) => sum + text.length, 0)
  const { object, ...rest } = infinityEnvelope('classify', model, characters)
  return { json: { object, data, ...rest } }
}

function searchUnits(documentCount: number): number {
  return Math.max(1, Math.ceil(documentCount / 100))
}

function cohereRerank(body: JsonObject, version: 1 | 2): Reply {
  if (version === 2) requireString(body, 'model')
  else optionalString(body, 'model')
  const query = requireString(body, 'query')
  // v2 dropped object documents (structured data travels as YAML strings).
  const documents = version === 2 ? requireStrings(body, 'documents') : requireDocuments(body, 'documents')
  requireNonEmpty(documents, 'documents')
  const rankFields = body.rank_fields === undefined ? undefined : requireStrings(body, 'rank_fields')
  optionalPositiveInt(body, version === 2 ? 'max_tokens_per_doc' : 'max_chunks_per_doc')
  const returnDocuments = optionalBoolean(body, 'return_documents', false)
  const scores = documents.map((document) => fakeScore(query, documentText(document, rankFields)))
  return {
    json: {
      id: randomUUID(),
      results: rank(scores, optionalPositiveInt(body, 'top_n')).map(({ index, score }) => {
        const document = documents[index] ?? ''
        const echoed = typeof document === 'string' ? { text: document } : document
        return returnDocuments
          ? { index, relevance_score: score, document: echoed }
          : { index, relevance_score: score }
      }),
      meta: {
        api_version: { version: String(version) },
        billed_units: { search_units: searchUnits(documents.length) },
      },
    },
  }
}

function jinaRerank(body: JsonObject): Reply {
  const model = requireString(body, 'model')
  const query = requireString(body, 'query')
  const documents = requireDocuments(body, 'documents')
  requireNonEmpty(documents, 'documents')
  const returnDocuments = optionalBoolean(body, 'return_documents', true)
  const texts = documents.map((document) => documentText(document))
  const ranked = rank(
    texts.map((text) => fakeScore(query, text)),
    optionalPositiveInt(body, 'top_n'),
  )
  return {
    json: {
      model,
      usage: { total_tokens: wordCount([query]) * texts.length + wordCount(texts) },
      results: ranked.map(({ index, score }) =>
        returnDocuments
          ? { index, document: { text: texts[index] }, relevance_score: score }
          : { index, relevance_score: score },
      ),
    },
  }
}

function voyageRerank(body: JsonObject): Reply {
  const query = requireString(body, 'query')
  const documents = requireStrings(body, 'documents')
  requireNonEmpty(documents, 'documents')
  const model = requireString(body, 'model')
  const returnDocuments = optionalBoolean(body, 'return_documents', false)
  optionalBoolean(body, 'truncation', true)
  const ranked = rank(
    documents.map((document) => fakeScore(query, document)),
    optionalPositiveInt(body, 'top_k'),
  )
  return {
    json: {
      object: 'list',
      data: ranked.map(({ index, score }) =>
        returnDocuments
          ? { index, relevance_score: score, document: documents[index] }
          : { index, relevance_score: score },
      ),
      model,
      usage: { total_tokens: wordCount([query]) * documents.length + wordCount(documents) },
    },
  }
}

function mixedbreadRerank(body: JsonObject): Reply {
  const model = requireString(body, 'model')
  const query = requireString(body, 'query')
  const input = requireDocuments(body, 'input')
  requireNonEmpty(input, 'input')
  const rankFields = body.rank_fields === undefined ? undefined : requireStrings(body, 'rank_fields')
  const returnInput = optionalBoolean(body, 'return_input', false)
  const texts = input.map((document) => documentText(document, rankFields))
  const ranked = rank(
    texts.map((text) => fakeScore(query, text)),
    optionalPositiveInt(body, 'top_k'),
  )
  const used = wordCount([query]) * texts.length + wordCount(texts)
  return {
    json: {
      object: 'list',
      data: ranked.map(({ index, score }) =>
        returnInput ? { index, score, input: input[index] } : { index, score },
      ),
      model,
      usage: { prompt_tokens: used, total_tokens: used },
    },
  }
}

const routes: Record<FakeVendorKind, Record<string, Route>> = {
  tei: { '/rerank': teiRerank },
  infinity: { '/rerank': infinityRerank, '/classify': infinityClassify },
  cohere: { '/v1/rerank': (body) => cohereRerank(body, 1), '/v2/rerank': (body) => cohereRerank(body, 2) },
  jina: { '/v1/rerank': jinaRerank },
  voyage: { '/v1/rerank': voyageRerank },
  mixedbread: { '/v1/reranking': mixedbreadRerank },
  // vLLM's server answers Jina's shape on all three routes.
  vllm: { '/rerank': jinaRerank, '/v1/rerank': jinaRerank, '/v2/rerank': jinaRerank },
}

/** Status for a body that is not JSON or has the wrong shape (FastAPI/axum-style servers say 422). */
const badRequestStatus: Record<FakeVendorKind, number> = {
  tei: 422,
  infinity: 422,
  cohere: 400,
  jina: 422,
  voyage: 400,
  mixedbread: 422,
  vllm: 400,
}

function teiErrorType(status: number): string {
  if (status === 400) return 'empty'
  if (status === 429) return 'overloaded'
  if (status === 503) return 'unhealthy'
  return status >= 500 ? 'backend' : 'validation'
}

/** The error body each vendor answers. */
function errorBody(kind: FakeVendorKind, status: number, message: string, teiType?: string): unknown {
  switch (kind) {
    case 'tei':
      return { error: message, error_type: teiType ?? teiErrorType(status) }
    case 'infinity': {
      const type = status >= 500 ? 'server_error' : 'invalid_request_error'
      return { error: { message, type, param: null, code: status } }
    }
    case 'cohere':
      return { message }
    default:
      return { detail: message }
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP plumbing.

/**
 * Waits, but no longer than the connection lives: once the client gave up (or close() ran) there is nobody
 * to answer, and a long "hang" must not keep a timer alive after the test.
 */
function pause(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((done) => {
    if (res.destroyed) return done()
    const finish = () => {
      clearTimeout(timer)
      res.off('close', finish)
      done()
    }
    const timer = setTimeout(finish, ms)
    res.once('close', finish)
  })
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) }
  } catch {
    return { ok: false }
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  // The client may have given up (or close() ran) while a delayed answer was pending.
  if (res.destroyed || res.writableEnded) return
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(body)
}

const defaultMessage = (status: number) => STATUS_CODES[status] ?? `HTTP ${status}`

/** Applies a fault; returns true when it answered the request (false: go on with normal handling). */
async function applyFault(kind: FakeVendorKind, fault: FakeFault, res: ServerResponse): Promise<boolean> {
  if (fault.delayMs !== undefined) await pause(fault.delayMs, res)
  if (fault.destroy) {
    res.socket?.destroy()
    return true
  }
  const headers = fault.headers ?? {}
  if (fault.malformedJson) {
    send(res, fault.status ?? 200, '{"results": [{"index": 0, "relevance_sc', headers)
    return true
  }
  if (fault.body !== undefined) {
    send(res, fault.status ?? 200, JSON.stringify(fault.body), headers)
    return true
  }
  if (fault.status !== undefined) {
    const message = fault.message ?? defaultMessage(fault.status)
    send(res, fault.status, JSON.stringify(errorBody(kind, fault.status, message)), headers)
    return true
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  return false
}

async function handle(
  kind: FakeVendorKind,
  options: FakeVendorOptions,
  vendor: FakeVendor,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET'
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  const raw = await readBody(req)
  const parsed = parseJson(raw)
  const recorded = { method, path, headers: req.headers, body: parsed.ok ? parsed.value : raw }
  vendor.requests.push(recorded)

  const fail = (status: number, message: string, teiType?: string) =>
    send(res, status, JSON.stringify(errorBody(kind, status, message, teiType)))

  const fault = vendor.faults.shift() ?? options.fault?.(recorded, vendor.requests.length - 1)
  if (fault !== undefined && (await applyFault(kind, fault, res))) return
  if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
    return fail(401, 'invalid api token')
  }
  const route = method === 'POST' ? routes[kind][path] : undefined
  if (route === undefined) return fail(404, `Not Found: ${method} ${path}`)
  if (!parsed.ok || !isObject(parsed.value)) {
    return fail(badRequestStatus[kind], 'the body must be a JSON object', 'validation')
  }
  try {
    const reply = route(parsed.value, options)
    send(res, 200, JSON.stringify(reply.json), reply.headers)
  } catch (error) {
    if (!(error instanceof VendorError)) throw error
    fail(error.status ?? badRequestStatus[kind], error.message, error.teiType)
  }
}

/** Starts a fake of one vendor on 127.0.0.1, on a free port. */
export async function startFakeVendor(
  kind: FakeVendorKind,
  options: FakeVendorOptions = {},
): Promise<FakeVendor> {
  const server = options.tls ? createHttpsServer(options.tls) : createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  const vendor: FakeVendor = {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests: [],
    faults: [],
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((done) => server.close(() => done()))
    },
  }
  server.on('request', (req, res) => {
    handle(kind, options, vendor, req, res).catch(() => res.destroy())
  })
  return vendor
}
