import type { EnvLookup } from '@rerank-kit/core'
import type { Logger } from '@rerank-kit/protocol'
import { loadRouterConfig, type RouterConfig, routerFromConfig } from '@rerank-kit/router'
import { limitInFlight, type ServedReranker } from '@rerank-kit/server'
import type { OutputStream } from './cli-io'
import type { ResolvePath } from './model-of-settings'
import type { ServedBackend } from './served-backend'
import type { Settings } from './settings'

/**
 * RERANKER_LOAD_BALANCER_ENABLED=true: a Router built from the LiteLLM-style YAML at RERANKER_CONFIG_PATH.
 * The local model (from the usual model settings) is loaded only when the config routes to it.
 *
 * @throws RouterConfigError naming the bad key and the file, before anything listens.
 */
export async function loadBalancer(
  settings: Settings,
  from: ResolvePath,
  env: EnvLookup,
  logger: Logger,
  progress: OutputStream,
): Promise<ServedBackend> {
  const configPath = from(settings.configPath)
  const config = await loadRouterConfig(configPath, env, { strict: settings.strictConfig })
  // One warning for every key read nowhere: a migrated LiteLLM config must not seem to work while a key of it
  // (a callback, a per-key budget) silently does nothing.
  if (config.unsupportedKeys.length > 0) {
    logger.warn('router config keys not supported by rerank-kit are ignored', {
      config: configPath,
      keys: config.unsupportedKeys.join(', '),
      refuse: 'RERANKER_STRICT_CONFIG=true or strict: true refuses them',
    })
  }
  // Imported only when needed: routing to remote backends alone never loads onnxruntime.
  const local = needsLocalModel(config)
    ? (await import('./local-model')).localModel(
        settings,
        from,
        env,
        logger,
        progress,
        localModelNames(config),
      )
    : undefined
  const router = routerFromConfig(config, { ...(local && { local: local.reranker }), logger })
  const routed: ServedReranker = {
    rerank: (request, options) => router.rerank(request, options),
    get modelNames() {
      return router.modelNames
    },
    // Remote deployments need no loading: /ready waits for the local model only when there is one.
    get isReady() {
      return local?.reranker.isReady ?? true
    },
    // Every deployment cooling down or at its limits, and no local fallback: /ready says why (503).
    get unavailableReason() {
      return router.readiness().reason
    },
    // Hidden aliases (model_group_alias with hidden: true) are routed, though /v1/models does not list them.
    servesModel: (name) => router.acceptsModel(name),
    stats: () => router.stats(),
  }
  // Admission control, as the local model's queue limit gives model mode: without it a flood would wait in
  // the upstream connection pools until the request deadline instead of being told to come back.
  const reranker = limitInFlight(routed, { maxInFlight: settings.maxInFlight })
  return {
    reranker,
    fields: {
      config: configPath,
      deployments: config.deployments.map((deployment) => deployment.id),
      ...(local && { localModel: local.model }),
    },
    ready: async () => {
      await local?.reranker.ready()
    },
    // Health checks and the Redis connection would otherwise keep the process alive after the server closed.
    close: async () => {
      await router.close()
      await local?.reranker.close()
    },
  }
}

/** The models `local/<name>` deployments name: each is loaded beside the settings' model. */
export function localModelNames(config: RouterConfig): string[] {
  const named = config.deployments.flatMap((deployment) =>
    deployment.local && deployment.model !== undefined ? [deployment.model] : [],
  )
  return [...new Set(named)]
}

/** True when the config routes to the in-process model: only then is it loaded (serve) or looked at (check). */
export function needsLocalModel(config: RouterConfig): boolean {
  return config.settings.fallbackToLocal || config.deployments.some((deployment) => deployment.local)
}
