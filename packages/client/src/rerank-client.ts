import {
  type DecoderPromptTemplate,
  delay,
  formatClassifyRequest,
  fromUnknown,
  inSpan,
  joinUrl,
  type Logger,
  maxClassifyInputs,
  parseClassifyResponse,
  type RerankCallOptions,
  type Reranker,
  type RerankFormat,
  type RerankRequest,
  type RerankResponse,
  rerankFormats,
  SpanKind,
  silentLogger,
  traceHeaders,
} from '@rerank-kit/protocol'
import { classifyTemplate, documentBudget } from './classify-prompt'
import {
  type ClientFormatName,
  clientDefaults,
  type RerankClientOptions,
  retryPolicy,
} from './client-options'
import { checkClientOptions } from './client-options-schema'
import { clientSpanOf } from './client-span'
import { postJson } from './post-json'
import { redactUrl } from './redact-url'
import { chunkRequest, mergeChunks, type RequestChunk } from './request-chunks'
import { defaultResponseLimit } from './response-limit'
import { retryDelayMs } from './retry-policy'

/** Per call: the Reranker options, plus headers for this call only (merged over the client's). */
export interface ClientCallOptions extends RerankCallOptions {
  headers?: Record<string, string | undefined>
}

interface Call {
  signal: AbortSignal | undefined
  headers: Record<string, string>
}

/** Chunks of one split request in flight at once: enough to overlap round trips, polite to the server. */
const chunkConcurrency = 4

/**
 * A Reranker backed by a remote endpoint in any supported wire format. Requests and answers are canonical
 * (`RerankRequest` / `RerankResponse`); the format decides the wire shape, the path and the per-server rules
 * (TEI's batch limit, Infinity's classify prompts, Cohere v2's required model).
 */
export class RerankClient implements Reranker {
  readonly format: ClientFormatName
  /** The endpoint every call goes to. */
  readonly url: string
  private readonly options: RerankClientOptions
  private readonly wire: RerankFormat | undefined
  private readonly template: DecoderPromptTemplate | undefined
  private readonly batchSize: number
  private readonly retry: ReturnType<typeof retryPolicy>
  private readonly headers: Record<string, string>
  private readonly logger: Logger
  private readonly span: ReturnType<typeof clientSpanOf>

  constructor(options: RerankClientOptions) {
    checkClientOptions(options)
    this.options = options
    this.format = options.format
    const classify = options.format === 'infinity-classify'
    this.wire = classify
      ? undefined
      : rerankFormats[options.format as Exclude<ClientFormatName, 'infinity-classify'>]
    this.template = classify ? classifyTemplate(options.template, options.model) : undefined
    const path = options.path ?? (classify ? '/classify' : this.wire!.defaultPath)
    this.url = joinUrl(options.baseUrl, path)
    this.batchSize =
      options.format === 'tei'
        ? (options.maxBatchSize ?? clientDefaults.teiMaxBatchSize)
        : (options.maxBatchSize ?? (classify ? maxClassifyInputs : Number.POSITIVE_INFINITY))
    this.retry = retryPolicy(options.retry)
    // Lowercase names, so a per-call header replaces a client header whatever the casing of either.
    this.headers = lowercaseNames({
      accept: 'application/json',
      ...options.headers,
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    })
    this.logger = options.logger ?? silentLogger
    this.span = clientSpanOf(this.url, options.format)
  }

  /**
   * One call in a span of its own (a CLIENT span, child of the active one), whose trace goes to the server in
   * `traceparent`: a rerank-kit server there continues the same trace.
   */
  rerank(request: RerankRequest, options: ClientCallOptions = {}): Promise<RerankResponse> {
    return inSpan(this.span.name, SpanKind.CLIENT, this.span.attributes(request), () =>
      this.send(request, options),
    )
  }

  private async send(request: RerankRequest, options: ClientCallOptions): Promise<RerankResponse> {
    const headers = this.headersFor(options.headers)
    const trace = traceHeaders()
    const call = { signal: options.signal, headers: trace ? { ...headers, ...trace } : headers }
    const complete =
      request.model === undefined && this.options.model !== undefined
        ? { ...request, model: this.options.model }
        : request
    const chunks = chunkRequest(complete, this.batchSize)
    // Awaited, not returned: an async function resolving with a promise costs two more promise jobs per call.
    if (chunks.length === 1) return await this.withRetries(chunks[0]!.request, call)
    return mergeChunks(complete, await this.allChunks(chunks, call))
  }

  private headersFor(extra: ClientCallOptions['headers']): Record<string, string> {
    return extra ? { ...this.headers, ...lowercaseNames(extra) } : this.headers
  }

  /** Runs the chunks a few at a time; the first failure stops the rest (their answers could not be used). */
  private async allChunks(chunks: RequestChunk[], call: Call) {
    const stop = new AbortController()
    const linked = {
      ...call,
      signal: call.signal ? AbortSignal.any([call.signal, stop.signal]) : stop.signal,
    }
    const parts: { offset: number; response: RerankResponse }[] = []
    let next = 0
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!
        parts.push({ offset: chunk.offset, response: await this.withRetries(chunk.request, linked) })
      }
    }
    try {
      await Promise.all(Array.from({ length: Math.min(chunkConcurrency, chunks.length) }, worker))
    } catch (error) {
      stop.abort()
      throw error
    }
    return parts
  }

  private async withRetries(request: RerankRequest, call: Call): Promise<RerankResponse> {
    const { signal } = call
    for (let retries = 0; ; retries++) {
      try {
        return await this.callOnce(request, call)
      } catch (thrown) {
        const error = fromUnknown(thrown)
        const waitMs = signal?.aborted ? undefined : retryDelayMs(error, retries, this.retry)
        if (waitMs === undefined) throw error
        this.logger.debug('retrying rerank call', {
          url: redactUrl(this.url),
          code: error.code,
          status: error.upstreamStatus,
          retry: retries + 1,
          delayMs: waitMs,
        })
        await delay(waitMs, signal)
      }
    }
  }

  private async callOnce(request: RerankRequest, call: Call): Promise<RerankResponse> {
    const documents = request.documents.length
    const post = (body: unknown) =>
      postJson(this.url, body, {
        headers: call.headers,
        timeoutMs: this.options.timeoutMs ?? clientDefaults.timeoutMs,
        signal: call.signal,
        fetch: this.options.fetch,
        maxResponseBytes:
          this.options.maxResponseBytes ?? ((chars) => defaultResponseLimit(documents, chars)),
      })
    if (this.template) {
      const instruction = request.instruction ?? this.options.instruction
      const withInstruction = instruction === undefined ? request : { ...request, instruction }
      const maxDocumentChars = documentBudget(
        this.template,
        request.query,
        instruction,
        this.options.maxInputChars ?? clientDefaults.maxInputChars,
      )
      const body = formatClassifyRequest(withInstruction, { template: this.template, maxDocumentChars })
      return parseClassifyResponse(await post(body), withInstruction, this.template)
    }
    return this.wire!.parseResponse(await post(this.wire!.formatRequest(request)), request)
  }
}

function lowercaseNames(headers: Record<string, string | undefined>): Record<string, string> {
  const lowered: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) lowered[name.toLowerCase()] = value
  return lowered
}
