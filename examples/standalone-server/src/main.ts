// The rerank-kit standalone server: `pnpm start` at the repository root. Configured like the seed
// (RERANKER_* variables, a .env file, or flags such as --model-path ./model --port 8080).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename, resolve } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import { createNodeListener, createRerankHandler } from '@rerank-kit/server'
import { consoleLogger, progressBar } from './console-logger'
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
  if (settings.loadBalancerEnabled) {
    logger.error('RERANKER_LOAD_BALANCER_ENABLED=true needs the router, which is not built yet')
    return 2
  }
  // `pnpm start` runs in this package's folder: paths are relative to where the command was typed.
  const from = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path)
  // The seed defaulted to BAAI/bge-reranker-v2-m3, whose repo has no ONNX files; this is a known ONNX export.
  const model = settings.modelPath
    ? from(settings.modelPath)
    : (settings.modelName ?? 'Xenova/ms-marco-MiniLM-L-6-v2')
  const name = settings.modelName ?? (settings.modelPath ? basename(model) : model)
  const reranker = new LocalReranker({
    models: [
      {
        model,
        name,
        ...(settings.maxLength !== undefined && { maxLength: settings.maxLength }),
        ...(settings.workers !== undefined && { workers: settings.workers }),
        maxBatchSize: settings.batchSize,
        device: settings.device,
        dtype: settings.useFp16 ? 'fp16' : 'auto',
      },
    ],
    cacheDir: from(settings.modelCacheDir),
    offline: settings.useOfflineMode,
    logger,
    onProgress: progressBar(),
  })
  const handler = createRerankHandler({ reranker, apiKeys: settings.apiKeys, logger })
  const server = createServer(createNodeListener(handler))
  // Listen at once: /health answers while the model loads, /ready says 503 until it has.
  await new Promise<void>((resolve) => server.listen(settings.port, settings.host, resolve))
  const { port } = server.address() as AddressInfo
  const shown = settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host
  logger.info(`listening on http://${shown}:${port}`, { model })
  try {
    await reranker.ready()
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
        await reranker.close()
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
