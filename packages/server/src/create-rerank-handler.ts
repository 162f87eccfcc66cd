import {
  checkRequestLimits,
  errorResponse,
  fromUnknown,
  isJsonContentType,
  LogThrottle,
  nativeFormat,
  parseJsonBody,
  RerankError,
  type RerankFormat,
  type RerankRequest,
  rerankOpenApiDocument,
  type Span,
  silentLogger,
  withContext,
} from '@rerank-kit/protocol'
import { Registry } from 'prom-client'
import { millisecondsText, setAnswerHeaders, setFailedAttemptsHeader } from './answer-headers'
import { matchingKeyIndex, presentedKey } from './api-keys'
import { AuthFailureLimiter } from './auth-failure-limit'
import { corsHeaders, preflightHeaders } from './cors'
import { disconnectWatchOf, watchDisconnect } from './disconnect-watch'
import { docsPageRenderer, requestOrigin } from './docs-page'
import type { PlainRequest, PlainResponse, RerankHandlerOptions } from './handler-types'
import { keyRateLimiterOf } from './key-rate-limit'
import { modelNameResolver, unservedAliasTargets } from './model-names'
import { HandlerMetrics } from './prometheus-metrics'
import { headerValue, requestIdOf } from './request-headers'
import { describeRequest, endRequestSpan, startRequestSpan } from './request-span'
import { requestTags } from './request-tags'
import { builtInGetRoutes, type RouteFamily, type RouteTable, routeTableOf } from './route-families'

/** 405: the route exists, not with this method (the answer's Allow header names the right ones). */
const methodNotAllowed = (method: string, path: string, allowed: string) =>
  new RerankError('method_not_allowed', `Method ${method} is not allowed on ${path}; use ${allowed}`)

/** Methods arrive uppercase from every server; other casings (a plain caller's) are compared without case. */
const isMethod = (given: string, method: string) => given === method || given.toUpperCase() === method

/** The reason a call's signal carries when the deadline passes: what AbortSignal.timeout's would. */
const deadlineReason = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError')

/**
 * The options of one rerank call. Its signal is made only if the reranker reads it (see toPlainRequest): the
 * client's disconnect and the deadline with the time left of it, combined. A class: an object literal with a
 * getter was the costliest line of a stub rerank route. With a deadline, one AbortController serves both: its
 * timer is cleared once the call settles (`release`), and a Node request's disconnect is watched without a
 * signal of its own (DisconnectWatch). AbortSignal.timeout and AbortSignal.any over the request's signal made
 * three signals per call (with weak references and a finalizer each) and left a timer per call running until
 * the deadline: a load-balancer server spent about a tenth of its CPU on them.
 */
class CallOptions {
  /** True once the deadline passed and aborted the call. */
  timedOut = false
  #signal: AbortSignal | null | undefined = null
  #timer: ReturnType<typeof setTimeout> | undefined
  #unlisten: (() => void) | undefined

  constructor(
    private readonly request: Pick<PlainRequest, 'signal'>,
    private readonly started: number,
    private readonly timeoutMs: number | undefined,
    /** The request's tags (body `tags` / `metadata.tags`, header `x-litellm-tags`), for a Router's tag routing. */
    readonly tags: readonly string[] | undefined,
  ) {}

  get signal(): AbortSignal | undefined {
    if (this.#signal === null) this.#signal = this.#made()
    return this.#signal
  }

  #made(): AbortSignal | undefined {
    const { request } = this
    if (this.timeoutMs === undefined) return request.signal
    const controller = new AbortController()
    const left = this.timeoutMs - (performance.now() - this.started)
    const timer = setTimeout(
      () => {
        this.timedOut = true
        controller.abort(deadlineReason())
      },
      Math.max(1, Math.ceil(left)),
    )
    // Like AbortSignal.timeout's timer, it never keeps a process alive (a number outside Node: nothing to do).
    ;(timer as { unref?: () => void }).unref?.()
    this.#timer = timer
    const watch = disconnectWatchOf(request)
    if (watch) {
      watch[watchDisconnect](() => controller.abort())
    } else {
      const disconnect = request.signal
      if (disconnect?.aborted) controller.abort(disconnect.reason)
      else if (disconnect) {
        const onAbort = () => controller.abort(disconnect.reason)
        disconnect.addEventListener('abort', onAbort, { once: true })
        this.#unlisten = () => disconnect.removeEventListener('abort', onAbort)
      }
    }
    return controller.signal
  }

  /** The call settled: its deadline timer and its listener on the request's signal go. */
  release(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#unlisten?.()
  }
}

const json = (status: number, body: unknown, headers?: Record<string, string>): PlainResponse => ({
  status,
  headers: headers
    ? { 'content-type': 'application/json; charset=utf-8', ...headers }
    : { 'content-type': 'application/json; charset=utf-8' },
  body,
})

/** The body limit when none is configured (10 MiB), shared by every way of reading a body. */
export const defaultMaxBodyBytes = 10 * 2 ** 20

const defaultRouteTable = routeTableOf({}, builtInGetRoutes)

/** The route paths of a handler, relative to its prefix: adapters register exactly these. */
export interface RerankRoutePaths {
  readonly post: readonly string[]
  readonly get: readonly string[]
}

const routePathsOf = (table: RouteTable): RerankRoutePaths => ({
  post: [...table.post.keys()],
  get: [...builtInGetRoutes, ...table.familyGet.keys()],
})

/** Every route of a handler with the default families, relative to the prefix (`handler.routes` has a
 * handler's own, where its `routeFamilies` moved some). */
export const rerankRoutePaths: RerankRoutePaths = routePathsOf(defaultRouteTable)

/** What a request says before its body: all the header-only checks need. */
export type RequestHead = Pick<PlainRequest, 'method' | 'path' | 'headers' | 'remoteAddress' | 'logger'>

/** Routes a monitor polls: never counted against a key's request budget. */
const unmeteredRoutes: ReadonlySet<string> = new Set(['/health', '/ready', '/stats', '/lb/stats', '/metrics'])

export interface RerankHandler {
  (request: PlainRequest): Promise<PlainResponse>
  /** True when a path (query string allowed) is one of this handler's routes under its prefix. */
  handles(path: string): boolean
  /**
   * Every check a request's head is enough for (failed-auth limit, key, key budget, route, method, declared
   * body size, saturation), before a byte of the body is read. Returns the refusal to send (then the body
   * stays unread and the connection should close after the answer), or undefined: read the body, then call
   * the handler with a request carrying the same `headers` object, and these checks are not made twice.
   * `refusal`: one decided outside the handler (the server's connection cap), answered before any other
   * check, in the route's error format.
   */
  precheck(head: RequestHead, refusal?: unknown): PlainResponse | undefined
  /** This handler's routes relative to its prefix: an adapter that registers routes one by one uses these. */
  readonly routes: RerankRoutePaths
}

/**
 * One framework-neutral handler: a plain request in, a plain response out. Adapters translate; every rule
 * (routes, auth, limits, deadlines, error formats) lives here once.
 */
export function createRerankHandler(options: RerankHandlerOptions): RerankHandler {
  const prefix = (options.prefix ?? '').replace(/\/+$/, '')
  const logger = options.logger ?? silentLogger
  // A dead backend fails every request the same way: one `request failed` line, then a count per interval.
  const failureLog = new LogThrottle(logger, options.repeatedLogIntervalMs ?? 10_000)
  const publicRoutes = new Set(options.publicRoutes ?? ['/health', '/ready'])
  const apiKeys = options.apiKeys ?? []
  // Built now, so bad budgets fail at start rather than on the first request.
  const keyRateLimiter = keyRateLimiterOf(options)
  const authFailures =
    options.authFailureLimits && apiKeys.length > 0
      ? new AuthFailureLimiter(options.authFailureLimits)
      : undefined
  // The headers objects of requests whose head passed `precheck`: the handler then skips those checks (the
  // key budget must not be spent twice). Weak: a request whose body never arrives leaves nothing behind.
  const admitted = new WeakSet<object>()
  const { reranker } = options
  // The POST routes, each answering (and erring) in its family's format. A Map: looking a fresh path string
  // up in an object's keys is a megamorphic load on every request. Colliding prefixes throw here, at start.
  const routeTable = options.routeFamilies
    ? routeTableOf(options.routeFamilies, builtInGetRoutes)
    : defaultRouteTable
  const rerankRoutes = routeTable.post
  const routes = routePathsOf(routeTable)
  const servedModelOf = modelNameResolver(options)
  // A reranker that loads its models later (LocalReranker) names none yet: the standalone server checks again
  // once loaded. A wrong target is refused at start, not answered 404 on every request.
  if (options.modelAliases && reranker.modelNames && reranker.modelNames.length > 0) {
    const unserved = unservedAliasTargets(options.modelAliases, reranker.modelNames)
    if (unserved.length > 0) {
      throw new Error(
        `model aliases name models not served here: ${unserved.join(', ')} (served: ${reranker.modelNames.join(', ')})`,
      )
    }
  }
  // Built once: options objects made per request were garbage on every call.
  const limits = options.limits ?? {}
  const bodyLimits = { maxBytes: limits.maxBodyBytes ?? defaultMaxBodyBytes }

  /**
   * The checks of `precheck`, throwing the refusal. The key is checked on every route but the public ones,
   * known or not (an unknown path tells nothing to a caller without a key).
   */
  function checkHead(head: RequestHead, path: string, rerankFormat: RerankFormat | undefined): void {
    if (apiKeys.length > 0 && !publicRoutes.has(path)) {
      authFailures?.check(head.remoteAddress)
      // Compared once, in constant time, for auth and for the key's rate limit.
      const keyIndex = matchingKeyIndex(presentedKey(head.headers), apiKeys)
      if (keyIndex === -1) {
        authFailures?.recordFailure(head.remoteAddress)
        // One answer whatever the key: nothing tells a wrong key from a missing one.
        throw new RerankError('unauthorized', 'A valid API key is required')
      }
      if (!unmeteredRoutes.has(path)) keyRateLimiter?.takeFor(keyIndex)
    }
    const method = head.method.toUpperCase()
    if (rerankFormat !== undefined) {
      if (method !== 'POST') throw methodNotAllowed(method, `${prefix}${path}`, 'POST')
      const declared = Number(headerValue(head.headers, 'content-length'))
      if (declared > bodyLimits.maxBytes) {
        throw new RerankError(
          'payload_too_large',
          `Request body is ${declared} bytes, over the limit of ${bodyLimits.maxBytes}`,
        )
      }
      // Refused before the body is read, decoded and validated: under overload, refusals must stay cheap and
      // immediate, or they take the event loop from the requests already accepted.
      if (reranker.isSaturated) {
        throw new RerankError('overloaded', 'The server is saturated, retry later', { retryAfterMs: 1000 })
      }
    } else if (known.has(path) && method !== 'GET' && method !== 'HEAD') {
      throw methodNotAllowed(method, `${prefix}${path}`, 'GET, HEAD')
    }
  }

  /**
   * A rerank request's body, read and checked: every refusal happens here, before any work is queued. Its tags
   * go to `tagsOf`, read from the same parsed body.
   */
  function rerankRequestOf(
    format: RerankFormat,
    request: PlainRequest,
    tagsOf: { tags?: string[] },
  ): RerankRequest {
    if (request.bodyError !== undefined) throw request.bodyError
    // Again after the body was read: the reranker may have filled up meanwhile.
    if (reranker.isSaturated) {
      throw new RerankError('overloaded', 'The server is saturated, retry later', { retryAfterMs: 1000 })
    }
    let body = request.body
    if (body instanceof Uint8Array || typeof body === 'string' || body === undefined) {
      if (!isJsonContentType(headerValue(request.headers, 'content-type'))) {
        throw new RerankError('invalid_request', 'Content-Type must be application/json')
      }
      body = parseJsonBody(body ?? '', bodyLimits)
    }
    const parsed = format.parseRequest(body)
    checkRequestLimits(parsed, limits)
    const tags = requestTags(body, request.headers)
    if (tags !== undefined) tagsOf.tags = tags
    if (parsed.model === undefined) return parsed
    // A name the reranker serves without listing it (a router's hidden alias) is its to resolve.
    if (reranker.servesModel?.(parsed.model)) return parsed
    // An alias (or, when any name is accepted, the default model) answers as the served model it stands for,
    // and the answer's `model` says which.
    const model = servedModelOf(parsed.model, reranker.modelNames)
    return model === parsed.model ? parsed : { ...parsed, model }
  }

  /** TEI's `GET /info`: what TEI clients read to learn the model (its other fields describe TEI's own batcher). */
  function familyInfo(family: RouteFamily): unknown {
    const model = reranker.modelNames?.[0] ?? 'unknown'
    if (family !== 'tei') throw new RerankError('not_found', `No info route for ${family}`)
    return {
      model_id: model,
      model_sha: null,
      model_type: { reranker: { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } } },
      max_client_batch_size: limits.maxDocuments ?? null,
      router: 'rerank-kit',
    }
  }

  /** The GET routes (and the 404 of everything else). */
  async function route(request: PlainRequest, path: string): Promise<PlainResponse> {
    const method = request.method.toUpperCase()
    if (method === 'GET' || method === 'HEAD') {
      switch (path) {
        case '/health':
          return json(200, { status: 'ok' })
        case '/ready':
          // A load that failed will not recover: no Retry-After, and a status an operator can act on.
          if (reranker.loadFailed) return json(503, { status: 'failed' })
          if (reranker.isReady === false) return json(503, { status: 'loading' }, { 'retry-after': '1' })
          if (reranker.isSaturated) return json(503, { status: 'saturated' }, { 'retry-after': '1' })
          // A router whose every backend is cooling down or at its limits: a balancer in front sends elsewhere.
          if (reranker.unavailableReason !== undefined) {
            return json(
              503,
              { status: 'unavailable', reason: reranker.unavailableReason },
              { 'retry-after': '1' },
            )
          }
          return json(200, { status: 'ready' })
        case '/v1/models': {
          // A local model's execution provider (cpu, cuda, webgpu, ...), from its stats: what serves each name.
          const stats = (await reranker.stats?.()) as Record<string, { provider?: unknown }> | undefined
          return json(200, {
            object: 'list',
            data: (reranker.modelNames ?? []).map((id) => {
              const provider = stats?.[id]?.provider
              return typeof provider === 'string'
                ? { id, object: 'model', owned_by: 'rerank-kit', provider }
                : { id, object: 'model', owned_by: 'rerank-kit' }
            }),
          })
        }
        case '/stats':
        case '/lb/stats':
          return json(200, (await reranker.stats?.()) ?? {})
        case '/openapi.json':
          return json(200, documentsFor(request.mountPath).openApi)
        case '/docs':
          return {
            status: 200,
            headers: { 'content-type': 'text/html; charset=utf-8' },
            body: documentsFor(request.mountPath).page(requestOrigin(headerValue(request.headers, 'host'))),
          }
        case '/metrics':
          return {
            status: 200,
            headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
            body: await metrics.render(),
          }
      }
      const familyRoute = routeTable.familyGet.get(path)
      if (familyRoute) return json(200, familyInfo(familyRoute.family))
    }
    throw new RerankError('not_found', `No route ${method} ${prefix}${path}`)
  }

  const relative = (path: string) => {
    const query = path.indexOf('?')
    const pathOnly = query === -1 ? path : path.slice(0, query)
    return pathOnly.startsWith(prefix) ? pathOnly.slice(prefix.length) || '/' : pathOnly
  }
  const known = new Set<string>([...routes.post, ...routes.get])
  // A registry of the handler's own unless the host passes one (the standalone server: prom-client's default).
  const metrics = new HandlerMetrics(
    { stats: reranker.stats ? () => reranker.stats!() : undefined },
    options.metricsRegistry ?? new Registry(),
  )
  const familyOf = (path: string) => routeTable.families.get(path) ?? 'none'
  /** A served name, or "other": a reranker that lists no models passes any name through, unbounded. */
  const modelLabel = (model: string | undefined) =>
    model === undefined
      ? (reranker.modelNames?.[0] ?? 'none')
      : reranker.modelNames?.includes(model) || reranker.servesModel?.(model)
        ? model
        : 'other'
  // The document and page per mount point, built on first use: one for the handler's own prefix, plus one per
  // place a framework mounts it (Express can mount a router at several). Bounded: a mount path with a
  // parameter (`/:tenant`) comes from the client, and past the bound each is built per request instead.
  const documents = new Map<string, { openApi: unknown; page: (origin: string) => string }>()
  const documentsFor = (mountPath = '') => {
    const full = `${mountPath.replace(/\/+$/, '')}${prefix}`
    let built = documents.get(full)
    if (!built) {
      const openApi = rerankOpenApiDocument({ prefix: full, routes: rerankRoutes })
      built = { openApi, page: docsPageRenderer(openApi) }
      if (documents.size < 16) documents.set(full, built)
    }
    return built
  }

  /** What every answer gets: the release of the Node response (see toPlainRequest), metrics, CORS, the
   * request id and timing headers. */
  const finish = (
    request: RequestHead & Pick<PlainRequest, 'done'>,
    answer: PlainResponse,
    path: string,
    requestId: string,
    started: number,
    work?: { documents: number; tokens: number | undefined; model?: string | undefined },
  ): PlainResponse => {
    request.done?.()
    const elapsed = performance.now() - started
    const route = known.has(path) ? path : 'other'
    // A request that failed before its model was known is labelled "none".
    const model = work === undefined ? 'none' : modelLabel(work.model)
    metrics.record(route, familyOf(path), answer.status, model, elapsed / 1000)
    if (options.cors) {
      Object.assign(answer.headers, corsHeaders(options.cors, headerValue(request.headers, 'origin')))
    }
    answer.headers['x-request-id'] = requestId
    const duration = millisecondsText(elapsed)
    answer.headers['x-response-time'] = `${duration}ms`
    // A rerank answer may carry the reranker's own parts already (setAnswerHeaders): total comes last.
    const parts = answer.headers['server-timing']
    answer.headers['server-timing'] =
      parts === undefined ? `total;dur=${duration}` : `${parts}, total;dur=${duration}`
    if (options.logRequests) {
      ;(request.logger ?? logger).info('request', {
        requestId,
        method: request.method,
        route: known.has(path) ? path : 'other',
        status: answer.status,
        durationMs: Number(duration),
        ...(work && { documents: work.documents }),
        ...(work?.tokens !== undefined && { tokens: work.tokens }),
      })
    }
    return answer
  }

  /** The answer to a refused or failed request, in its route family's format. */
  const failure = (
    request: RequestHead & Pick<PlainRequest, 'done'>,
    thrown: unknown,
    path: string,
    rerankFormat: RerankFormat | undefined,
    requestId: string,
    started: number,
    callOptions?: CallOptions,
  ): PlainResponse => {
    // The deadline aborts the work like a disconnect would; the caller is told it was a timeout.
    const error = callOptions?.timedOut
      ? new RerankError('timeout', `No answer within ${options.requestTimeoutMs} ms`)
      : fromUnknown(thrown)
    if (error.code === 'request_timeout') {
      // A client too slow to send its body: its fault, not the server's.
      ;(request.logger ?? logger).warn('request body not received in time', { requestId, path })
    } else if (error.status >= 500 && error.code !== 'overloaded' && error.code !== 'timeout') {
      failureLog.log(
        'error',
        'request failed',
        { requestId, path, code: error.code, error: String(error.cause ?? error.message) },
        ['path', 'code', 'error'],
        request.logger ?? logger,
      )
    }
    // A family's GET route (TEI's /info) errs in its family's format too.
    const errorFormat = rerankFormat ?? routeTable.familyGet.get(path)?.format ?? nativeFormat
    const response = errorResponse(error, errorFormat.formatError)
    if (error.code === 'unauthorized') response.headers['www-authenticate'] = 'Bearer'
    if (error.publicDetails !== undefined) setFailedAttemptsHeader(response.headers, error.publicDetails)
    if (error.code === 'method_not_allowed') response.headers.allow = rerankFormat ? 'POST' : 'GET, HEAD'
    return finish(request, response, path, requestId, started)
  }

  const precheck = (head: RequestHead, refusal?: unknown): PlainResponse | undefined => {
    const path = relative(head.path)
    // A preflight carries no credentials and no body: the handler answers it.
    if (options.cors && known.has(path) && isMethod(head.method, 'OPTIONS')) return undefined
    const rerankFormat = rerankRoutes.get(path)
    try {
      if (refusal !== undefined) throw refusal
      checkHead(head, path, rerankFormat)
      admitted.add(head.headers)
      return undefined
    } catch (thrown) {
      return failure(head, thrown, path, rerankFormat, requestIdOf(head.headers), performance.now())
    }
  }

  const handle = async (request: PlainRequest): Promise<PlainResponse> => {
    const started = performance.now()
    const requestId = requestIdOf(request.headers)
    const path = relative(request.path)
    const rerankFormat = rerankRoutes.get(path)
    if (options.cors && known.has(path) && isMethod(request.method, 'OPTIONS')) {
      // A preflight carries no credentials: it is answered before auth, and only for our routes.
      const origin = headerValue(request.headers, 'origin')
      return finish(
        request,
        { status: 204, headers: preflightHeaders(options.cors, origin), body: '' },
        path,
        requestId,
        started,
      )
    }
    let callOptions: CallOptions | undefined
    let span: Span | undefined
    try {
      if (!admitted.delete(request.headers)) checkHead(request, path, rerankFormat)
      if (rerankFormat === undefined) {
        return finish(request, await route(request, path), path, requestId, started)
      }
      const traced = startRequestSpan(request, path, familyOf(path))
      span = traced.span
      // The rerank call is awaited here, not in a function of its own: every async layer costs promise jobs
      // on every request.
      const extra: { tags?: string[] } = {}
      const parsed = rerankRequestOf(rerankFormat, request, extra)
      describeRequest(span, parsed)
      callOptions = new CallOptions(request, started, options.requestTimeoutMs, extra.tags)
      const call = callOptions
      const answered = await withContext(traced.context, () => reranker.rerank(parsed, call))
      callOptions.release()
      // One id to find a request by: the body's id (Cohere's) is the x-request-id, unless the reranker gave one.
      // Passed beside the response, not spread into a copy of it: the copy was the costliest line of the route.
      const body = rerankFormat.formatResponseJson
        ? rerankFormat.formatResponseJson(answered, parsed, requestId)
        : rerankFormat.formatResponse({ ...answered, id: answered.id ?? requestId }, parsed)
      const answer = json(200, body)
      setAnswerHeaders(answer.headers, answered)
      endRequestSpan(span, 200, { answered })
      return finish(request, answer, path, requestId, started, {
        documents: parsed.documents.length,
        tokens: answered.usage?.totalTokens,
        model: parsed.model,
      })
    } catch (thrown) {
      callOptions?.release()
      const answer = failure(request, thrown, path, rerankFormat, requestId, started, callOptions)
      if (span !== undefined) {
        endRequestSpan(span, answer.status, { thrown, code: fromUnknown(thrown).code })
      }
      return answer
    }
  }
  return Object.assign(handle, { handles: (path: string) => known.has(relative(path)), precheck, routes })
}
