import { RerankClient } from '@rerank-kit/client'
import { nodeHttpFetch } from '@rerank-kit/client/node'
import { joinUrl, type Logger, RerankError, type Reranker } from '@rerank-kit/protocol'
import type { RouterConfig } from './config'
import type { RouterDeployment } from './deployment-runtime'
import { FallbackState } from './fallback-state'
import { httpHealthCheck } from './health-checks'
import { RedisState } from './redis-state'
import { Router, type RouterOptions } from './router'

export interface RouterFromConfigOptions {
  /** The in-process model: serves `model: local` deployments and `fallback_to_local`. */
  local?: Reranker
  logger?: Logger
  /**
   * Passed to every client. Default: one `nodeHttpFetch` (keep-alive node:http) shared by all of them, since a
   * router makes every call through it and Node's built-in fetch costs about 5 times the CPU per call.
   */
  fetch?: typeof globalThis.fetch
}

/**
 * A Router from a loaded LiteLLM-style config: one RerankClient per remote deployment (retries off: the
 * router retries, on another deployment), the local model for `model: local` entries. With `redis_url`
 * the state is shared through Redis (memory while Redis is down); `router.close()` closes that connection.
 */
export function routerFromConfig(config: RouterConfig, options: RouterFromConfigOptions = {}): Router {
  const { settings } = config
  const transport = { ...options, fetch: options.fetch ?? nodeHttpFetch() }
  const deployments: RouterDeployment[] = config.deployments.map((deployment) => {
    const reranker = deployment.local ? options.local : remoteClient(deployment, settings, transport)
    if (!reranker) {
      throw new RerankError(
        'invalid_request',
        `Deployment ${deployment.id} is local, but no local model was given`,
        {
          param: 'model_list',
        },
      )
    }
    return {
      id: deployment.id,
      stateKey: deployment.stateKey,
      modelName: deployment.modelName,
      reranker,
      weight: deployment.weight,
      priority: deployment.priority,
      ...definedLimits(deployment),
      // With a health_check_path, remote deployments are probed there; else by a one-document rerank.
      ...(settings.healthCheckPath !== undefined && !deployment.local
        ? {
            healthCheck: httpHealthCheck(
              joinUrl(deployment.apiBase!, settings.healthCheckPath),
              transport.fetch,
            ),
          }
        : {}),
    }
  })
  const routerOptions: RouterOptions = {
    deployments,
    routingStrategy: settings.routingStrategy,
    numRetries: settings.numRetries,
    retryDelayMs: settings.retryDelayMs,
    cooldownTimeMs: settings.cooldownTimeMs,
    maxCooldownTimeMs: settings.maxCooldownTimeMs,
    allowedFails: settings.allowedFails,
    fallbacks: settings.fallbacks,
    fallbackToLocal: settings.fallbackToLocal,
    latencyBuffer: settings.latencyBuffer,
  }
  if (settings.healthCheckIntervalMs !== undefined) {
    routerOptions.healthCheckIntervalMs = settings.healthCheckIntervalMs
  }
  if (options.local) routerOptions.local = options.local
  if (options.logger) routerOptions.logger = options.logger
  if (settings.redisUrl !== undefined) {
    routerOptions.state = new FallbackState({
      redis: new RedisState({
        redis: settings.redisUrl,
        ...(settings.redisNamespace === undefined ? {} : { keyPrefix: `${settings.redisNamespace}:` }),
      }),
      logger: options.logger,
    })
  }
  try {
    return new Router(routerOptions)
  } catch (error) {
    // The Redis client would otherwise keep reconnecting, and the process alive, for a router never built.
    void routerOptions.state?.close?.()
    throw error
  }
}

function remoteClient(
  deployment: RouterConfig['deployments'][number],
  settings: RouterConfig['settings'],
  options: RouterFromConfigOptions,
): RerankClient {
  const timeoutMs = deployment.timeoutMs ?? settings.timeoutMs
  const { maxResponseBytes } = settings
  return new RerankClient({
    baseUrl: deployment.apiBase!,
    format: deployment.format ?? 'native',
    retry: false,
    ...(deployment.apiKey === undefined ? {} : { apiKey: deployment.apiKey }),
    ...(deployment.model === undefined ? {} : { model: deployment.model }),
    ...(deployment.path === undefined ? {} : { path: deployment.path }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  })
}

function definedLimits(deployment: RouterConfig['deployments'][number]) {
  const limits: Pick<RouterDeployment, 'rpm' | 'tpm' | 'maxParallelRequests'> = {}
  if (deployment.rpm !== undefined) limits.rpm = deployment.rpm
  if (deployment.tpm !== undefined) limits.tpm = deployment.tpm
  if (deployment.maxParallelRequests !== undefined)
    limits.maxParallelRequests = deployment.maxParallelRequests
  return limits
}
