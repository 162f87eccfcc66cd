import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import type { ResolvedModel } from '@rerank-kit/core'
import { RerankError } from '@rerank-kit/protocol'
import { modelCacheDir } from '../cache-dir'
import type { CliIo } from '../cli-io'
import type { Command } from '../command'
import { consoleLogger } from '../console-logger'
import { probeHubFile, shownUrl } from '../hub-reachability'
import { modelOfSettings } from '../model-of-settings'
import { loadSettings, type Settings } from '../settings'

export const check: Command = {
  name: 'check',
  summary: 'show the devices, threads and model serve would use, without downloading',
  help: `Usage: rerank-kit check [serve's flags, e.g. --model-path ./model or --model-name org/name]

Prints what \`rerank-kit serve\` would do with the same settings (flags, RERANKER_* variables, .env): Node and
cores, the execution providers onnxruntime can use, the device order and the worker/thread plan, and which
model would load and from where (a local folder, the cache, or a hub download). A model already on disk is
loaded once, to show the device it really gets; nothing is downloaded. A model to download is checked with
one HEAD request for its first file (at most 5 s; HF_ENDPOINT and HF_TOKEN apply), which says whether the
hub is reachable. In load-balancer mode it reads and
validates the router config as serve would, lists each deployment's format and address, and looks at the
model only if the config routes to it.

Exit codes: 0 serve would start, 1 the model would not load (e.g. missing files, not cached in offline mode,
or not cached and the hub unreachable or refusing it), 2 a wrong command line, setting or router config.`,
  run: runCheck,
}

async function runCheck(args: readonly string[], io: CliIo): Promise<number> {
  // Imported when run, like every command's use of core: `serve` in load-balancer mode must not load it.
  const {
    acceleratorAbsence,
    defaultThreadsPerWorker,
    defaultWorkers,
    LocalReranker,
    onnxruntimeBackends,
    providerPlan,
    providersForDevice,
  } = await import('@rerank-kit/core')
  const settings = loadSettings(io.env, args, resolve(io.cwd, '.env'))
  const from = (path: string) => resolve(io.cwd, path)
  const line = (label: string, text: string) => io.stdout.write(`${label.padEnd(12)} ${text}\n`)

  line('node', `${process.version} on ${process.platform} ${process.arch}`)
  const cores = availableParallelism()
  line('cores', String(cores))
  // The devices rerank-kit can use here (cuda/dml/coreml where they exist, cpu), as this onnxruntime has them.
  const ort = await onnxruntimeBackends()
  const devices = providersForDevice('auto').map((device) => {
    const backend = ort.backends.find((candidate) => candidate.name === device)
    if (!backend) return `${device} (not in this onnxruntime build)`
    return backend.bundled ? `${device} (bundled)` : `${device} (if its libraries are installed)`
  })
  line('devices', `${devices.join(', ')}; onnxruntime-node ${ort.version}`)
  let plan: ReturnType<typeof providerPlan>
  try {
    plan = providerPlan(settings.device, process.platform, acceleratorAbsence())
  } catch (error) {
    line('device', `${settings.device}: ${(error as Error).message}`)
    return 1
  }
  // What auto leaves out here and why (no CUDA libraries, no Vulkan loader), or what an explicit one lacks.
  const { providers, skipped, missing } = plan
  const notes = [
    ...skipped.map(({ provider, reason }) => `${provider} skipped: ${reason}`),
    ...(missing === undefined ? [] : [`will not start: ${missing}`]),
  ]
  line(
    'device',
    `${settings.device}: ${providers.length > 1 ? `tries ${providers.join(', then ')}` : `${providers[0]} only`}` +
      (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
  )
  const workers = settings.workers ?? defaultWorkers(cores)
  line(
    'workers',
    `${workers} inference worker${workers === 1 ? '' : 's'} x ${defaultThreadsPerWorker(workers, cores)} ` +
      `onnxruntime thread${defaultThreadsPerWorker(workers, cores) === 1 ? '' : 's'}` +
      `${settings.workers === undefined ? ' (--workers to change)' : ''}`,
  )
  if (settings.loadBalancerEnabled) {
    // The config is read and validated as serve reads it: a RouterConfigError (exit 2) names the bad key.
    const { loadRouterConfig } = await import('@rerank-kit/router')
    const { needsLocalModel } = await import('../load-balancer')
    const configPath = from(settings.configPath)
    const config = await loadRouterConfig(configPath, io.env, { strict: settings.strictConfig })
    const groups = [...new Set(config.deployments.map((deployment) => deployment.modelName))]
    line(
      'mode',
      `load balancer over ${configPath}: ${config.deployments.length} deployment` +
        `${config.deployments.length === 1 ? '' : 's'} in ${groups.map((group) => `"${group}"`).join(', ')}, ` +
        `${config.settings.routingStrategy}`,
    )
    // Where each deployment sends requests; never its key.
    for (const deployment of config.deployments) {
      line(
        'deployment',
        deployment.local
          ? `${deployment.id}: the local model${deployment.model ? ` "${deployment.model}"` : ''}`
          : `${deployment.id}: ${deployment.format} at ${deployment.apiBase}${deployment.model ? ` (model "${deployment.model}")` : ''}`,
      )
    }
    if (config.unsupportedKeys.length > 0) {
      line('unsupported', `ignored (not read by rerank-kit): ${config.unsupportedKeys.join(', ')}`)
    }
    if (!needsLocalModel(config)) {
      line('model', 'none: the config routes to remote deployments only')
      return 0
    }
  }

  const cacheDir = await modelCacheDir(settings, io)
  const found = await findModel(settings, from, cacheDir, io)
  if (!found.ok) {
    line('model', found.text)
    return found.exitCode
  }
  line('model', found.text)
  if (!found.resolved) return 0

  // The real probe: start the model once, as serve would, and report the provider it got.
  const { model } = modelOfSettings(settings, from)
  const started = performance.now()
  const reranker = new LocalReranker({
    models: [{ model, workers: 1, device: settings.device, dtype: found.resolved.dtype }],
    cacheDir,
    offline: true,
    // A device fallback is logged as a warning, with the reason (e.g. CUDA libraries missing).
    logger: consoleLogger('warn', io.stderr),
  })
  try {
    await reranker.ready()
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    line('load test', `loaded on ${reranker.engine().provider} in ${seconds} s`)
    return 0
  } catch (error) {
    line('load test', `failed: ${(error as Error).message}`)
    return 1
  } finally {
    await reranker.close()
  }
}

type Found =
  | { ok: true; text: string; resolved?: ResolvedModel }
  | { ok: false; text: string; exitCode: number }

/** Where the model would come from, looking only at the disk. */
async function findModel(
  settings: Settings,
  from: (path: string) => string,
  cacheDir: string,
  io: CliIo,
): Promise<Found> {
  const { hubDefaultsFromEnv, hubFileUrl, requiredModelFiles, resolveModel, revisionDir } = await import(
    '@rerank-kit/core'
  )
  const { model, name } = modelOfSettings(settings, from)
  const dtype = settings.useFp16 ? 'fp16' : 'auto'
  const hub = hubDefaultsFromEnv(io.env)
  const offline = settings.useOfflineMode || hub.offline
  try {
    const resolved = await resolveModel({ model, cacheDir, dtype, offline: true })
    const where = resolved.source === 'local' ? 'local folder' : 'cache'
    const file = resolved.onnxPath.slice(resolved.dir.length + 1)
    return {
      ok: true,
      text: `"${name}" from the ${where} ${resolved.dir} (${resolved.dtype}: ${file})`,
      resolved,
    }
  } catch (error) {
    const message = (error as Error).message
    const notCached = error instanceof RerankError && error.code === 'not_found' && !settings.modelPath
    if (!notCached) return { ok: false, text: `"${name}" would not load: ${message}`, exitCode: 1 }
    if (offline) {
      return { ok: false, text: `"${name}" would not load (offline mode): ${message}`, exitCode: 1 }
    }
    const target = revisionDir(cacheDir, model, 'main')
    // The first file serve would download, asked for as serve would ask (with HF_TOKEN): the hub's answer, not
    // the settings alone, says whether the download can start.
    const url = hubFileUrl(hub.hubEndpoint, model, 'main', requiredModelFiles[0] ?? 'config.json')
    const probe = await probeHubFile(url, hub.token)
    if (!probe.reachable) {
      const hint =
        probe.status === undefined
          ? '; download it where the hub is reachable (rerank-kit download) or set HF_ENDPOINT to a mirror'
          : ''
      return {
        ok: false,
        text: `"${name}" is not cached and serve could not download it: ${shownUrl(url)} ${probe.reason}${hint}`,
        exitCode: 1,
      }
    }
    return {
      ok: true,
      text:
        `"${name}" is not cached: serve would download it from ${hub.hubEndpoint} into ${target} ` +
        `(reachable: HEAD ${shownUrl(url)} answered ${probe.status} in ${probe.ms} ms)`,
    }
  }
}
