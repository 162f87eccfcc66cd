// The rerank-kit standalone server: `pnpm start` at the repository root. Configured like the seed
// (RERANKER_* variables, a .env file, or flags such as --model-path ./model --port 8080). With
// RERANKER_LOAD_BALANCER_ENABLED=true it serves a router built from RERANKER_CONFIG_PATH instead of a model.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { RouterConfigError } from '@rerank-kit/router'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { consoleLogger } from './console-logger'
import { loadBalancer } from './load-balancer'
import type { ServedBackend } from './served-backend'
import { loadSettings, SettingsError } from './settings'

async function main(): Promise<number> {
  let settings: ReturnType<typeof loadSettings>
  try {
    settings = loadSettings(process.env, process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error
    console.error(`rerank-kit: ${error.message}`)
    return 2
  }
  const logger = consoleLogger(settings.logLevel)
  // `pnpm start` runs in this package's folder: paths are relative to where the command was typed.
  const from = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path)
  let backend: ServedBackend
  if (settings.loadBalancerEnabled) {
    try {
      backend = await loadBalancer(settings, from, logger)
    } catch (error) {
      if (!(error instanceof RouterConfigError)) throw error
      console.error(`rerank-kit: ${error.message}`)
      return 2
    }
  } else {
    // Imported when used: a load balancer that routes only to remote backends never loads onnxruntime.
    const { localModel } = await import('./local-model')
    const { reranker, model } = localModel(settings, from, logger)
    backend = { reranker, fields: { model }, ready: () => reranker.ready(), close: () => reranker.close() }
  }
  const { reranker } = backend
  const handler = createRerankHandler({ reranker, apiKeys: settings.apiKeys, logger })
  const server = createServer(createNodeListener(handler))
  // Listen at once: /health answers while the model loads, /ready says 503 until it has.
  await new Promise<void>((resolve) => server.listen(settings.port, settings.host, resolve))
  const { port } = server.address() as AddressInfo
  const shown = settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host
  logger.info(`listening on http://${shown}:${port}`, backend.fields)
  try {
    await backend.ready()
    logger.info('ready', { models: reranker.modelNames })
  } catch (error) {
    logger.error(`could not load the model: ${(error as Error).message}`)
    server.close()
    return 1
  }

  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal}: no new connections; finishing requests in flight`)
      // close() stops accepting and waits for open requests; idle keep-alive sockets are dropped.
      server.close(async () => {
        await backend.close()
        logger.info('stopped')
        resolve(0)
      })
      server.closeIdleConnections()
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}

process.exitCode = await main()
