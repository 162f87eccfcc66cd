import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import type { Logger } from '@rerank-kit/protocol'
import {
  createRerankHandler,
  createRerankServer,
  defaultMetricsRegistry,
  unservedAliasTargets,
} from '@rerank-kit/server'
import type { CliIo } from '../cli-io'
import type { Command } from '../command'
import { consoleLogger } from '../console-logger'
import { isLoopback, urlOfAddress } from '../listen-address'
import { assertCanListen } from '../port-check'
import type { ServedBackend } from '../served-backend'
import { serverTimeouts } from '../server-timeouts'
import { loadSettings, type Settings, SettingsError } from '../settings'
import { settingsHelp } from '../settings-docs'
import { type StopSignals, watchStopSignals } from '../stop-signals'

/**
 * The standalone server: a LocalReranker (or, with RERANKER_LOAD_BALANCER_ENABLED, a Router) behind the native,
 * Cohere and Jina routes. Settings come from a `.env` file, RERANKER_* variables and flags (last wins). It
 * listens at once, says ready when the model is loaded, and on SIGTERM/SIGINT finishes the requests in flight.
 */
export const serve: Command = {
  name: 'serve',
  summary: 'run the rerank server (a local model, or a load balancer over backends)',
  help: `Usage: rerank-kit serve [flags]

Serves a reranker over HTTP: POST /rerank (native), /v1/rerank and /v2/rerank (Cohere; Together with base
URL /v1), /api/v1/rerank (Jina), /voyage/v1/rerank (Voyage), /v1/reranking (mixedbread), /tei/rerank (TEI),
plus /health, /ready, /v1/models, /stats, /metrics, /docs. Each setting is a flag or a RERANKER_* variable
(environment or a .env file in the current folder); flags win.

  rerank-kit serve --model-path ./model                 a local model folder
  rerank-kit serve --model-name Xenova/ms-marco-MiniLM-L-6-v2 --port 8080
  rerank-kit serve --model-name org/model --use-offline-mode   from the cache only (see: rerank-kit download)

Flags:
${settingsHelp()}

Exit codes: 0 stopped by SIGTERM/SIGINT (after finishing requests in flight; at once while the model loads),
1 the model could not load, 2 a setting or the router config is invalid.`,
  run: runServe,
}

async function runServe(args: readonly string[], io: CliIo): Promise<number> {
  // A SettingsError (exit code 2) propagates to runCli.
  const settings = loadSettings(io.env, args, resolve(io.cwd, '.env'))
  const logger = consoleLogger(settings.logLevel, io.stderr, settings.logFormat)
  // Before anything slow starts (the router's config, the model's download and load): a stop asked for while
  // loading must be heard, not ignored until the load ends.
  const stop = watchStopSignals()
  const traces = settings.otlpEndpoint
    ? await (await import('../trace-export')).startTraceExport(settings.otlpEndpoint, io.env, logger)
    : undefined
  try {
    return await serveUntilStopped(settings, logger, io, stop)
  } finally {
    stop.dispose()
    // The spans of the last requests still go out (bounded: a collector that is gone does not hold the stop).
    await traces?.shutdown()
  }
}

async function serveUntilStopped(
  settings: Settings,
  logger: Logger,
  io: CliIo,
  stop: StopSignals,
): Promise<number> {
  const from = (path: string) => resolve(io.cwd, path)
  // A taken port fails now, not after the router's config and the model's download and load.
  await assertCanListen(settings.host, settings.port)
  let backend: ServedBackend
  if (settings.loadBalancerEnabled) {
    // A RouterConfigError (exit code 2) propagates to runCli.
    const { loadBalancer } = await import('../load-balancer')
    backend = await loadBalancer(settings, from, io.env, logger, io.stderr)
  } else {
    // Imported when used: a load balancer that routes only to remote backends never loads onnxruntime.
    const { assertModelAccess, localModel } = await import('../local-model')
    // An unreadable model folder or an unwritable cache stops the start now, in one line (exit code 1).
    await assertModelAccess(settings, from, io.env)
    const { reranker, model } = localModel(settings, from, io.env, logger, io.stderr)
    backend = { reranker, fields: { model }, ready: () => reranker.ready(), close: () => reranker.close() }
  }
  const { reranker } = backend
  let handler: ReturnType<typeof createRerankHandler>
  try {
    handler = createRerankHandler({
      reranker,
      apiKeys: settings.apiKeys,
      requestTimeoutMs: settings.requestTimeout,
      limits: { maxDocumentLength: settings.maxDocumentLength, maxQueryLength: settings.maxQueryLength },
      ...(settings.keyRateLimit !== undefined && {
        keyRateLimits: { requestsPerMinute: settings.keyRateLimit },
      }),
      ...(settings.authFailureLimit > 0 && {
        authFailureLimits: { maxFailures: settings.authFailureLimit, windowMs: settings.authFailureWindow },
      }),
      publicRoutes: settings.publicRoutes,
      modelAliases: settings.modelAliases,
      acceptAnyModel: settings.acceptAnyModel,
      routeFamilies: settings.routePrefixes,
      logRequests: settings.logRequests,
      // prom-client's default registry, as a Node service's: an exporter reading it sees ours too.
      metricsRegistry: defaultMetricsRegistry,
      logger,
    })
  } catch (error) {
    // Route prefixes that collide, aliases of models the backend does not serve: the settings are wrong (exit
    // code 2). The model may be loading already; it must not keep the process alive.
    await backend.close().catch(() => {})
    throw new SettingsError((error as Error).message)
  }
  // Requests are checked from their headers (connection cap, key, route, size) before a body byte is read.
  const server = createRerankServer(handler, {
    ...serverTimeouts(settings),
    maxConnections: settings.maxConnections,
    maxBodyBytesInFlight: settings.maxBodyBytesInFlight,
  })
  // Listen at once: /health answers while the model loads, /ready says 503 until it has.
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail)
      server.listen(settings.port, settings.host, done)
    })
  } catch (error) {
    await backend.close().catch(() => {})
    throw new Error(`cannot listen on ${settings.host}:${settings.port}: ${(error as Error).message}`)
  }
  // The address actually bound (0.0.0.0 is not 127.0.0.1: it is every interface).
  const { address, port } = server.address() as AddressInfo
  logger.info(`listening on ${urlOfAddress(address, port)}`, backend.fields)
  if (settings.apiKeys.length === 0 && !isLoopback(address)) {
    logger.warn(
      `no RERANKER_API_KEY: anyone who can reach ${address} port ${port} can use this server (set a key, or --host 127.0.0.1)`,
    )
  }
  let stoppedWhileLoading: string | undefined
  try {
    stoppedWhileLoading = await Promise.race([backend.ready().then(() => undefined), stop.received])
  } catch (error) {
    logger.error(`could not load the model: ${(error as Error).message}`)
    server.close()
    await backend.close().catch(() => {})
    return 1
  }
  if (stoppedWhileLoading !== undefined) {
    logger.info(`${stoppedWhileLoading} while loading the model: stopped without waiting for the load`)
    server.close()
    server.closeAllConnections()
    // LocalReranker cannot abort a load (a download, a session starting): close() would wait for it, however
    // long it takes. Nothing is answered yet (rerank requests wait for the load), so leaving now loses nothing.
    process.exit(0)
  }
  // A local model names its models once loaded: aliases are checked against them now, before any answer.
  const unserved = unservedAliasTargets(settings.modelAliases, reranker.modelNames ?? [])
  if (unserved.length > 0) {
    server.close()
    await backend.close().catch(() => {})
    throw new SettingsError(
      `RERANKER_MODEL_ALIASES names models not served here: ${unserved.join(', ')} (served: ${(reranker.modelNames ?? []).join(', ')})`,
    )
  }
  logger.info('ready', { models: reranker.modelNames })

  const signal = await stop.received
  return new Promise<number>((done) => {
    // close() stops accepting and waits for open connections. A keep-alive connection whose request was in
    // flight turns idle only when its answer is sent, and would then hold close() until the client drops it:
    // idle connections are closed again while stopping, not just once.
    const dropIdle = setInterval(() => server.closeIdleConnections(), 100)
    server.close(async () => {
      clearInterval(dropIdle)
      await backend.close()
      logger.info('stopped')
      done(0)
    })
    server.closeIdleConnections()
    // Said once it is true: the listening socket is closed by now, so a new connection is refused.
    logger.info(`${signal}: no new connections; finishing requests in flight`)
  })
}
