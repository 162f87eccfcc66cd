import { readFileSync } from 'node:fs'
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
  const transport = { ...options, fetch: options.fetch ?? configuredFetch(settings.tls) }
  const deployments: RouterDeployment[] = config.deployments.map((deployment) => {
    const reranker = deployment.local
      ? localModelOf(deployment, options.local)
      : remoteClient(deployment, settings, transport)
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
      ...(deployment.tags === undefined ? {} : { tags: deployment.tags }),
      ...(deployment.inputCostPerQuery === undefined
        ? {}
        : { inputCostPerQuery: deployment.inputCostPerQuery }),
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
    defaultFallbacks: settings.defaultFallbacks,
    contextWindowFallbacks: settings.contextWindowFallbacks,
    fallbackToLocal: settings.fallbackToLocal,
    latencyBuffer: settings.latencyBuffer,
    enableTagFiltering: settings.enableTagFiltering,
    ...(settings.retryPolicy && { retryPolicy: settings.retryPolicy }),
    ...(settings.allowedFailsPolicy && { allowedFailsPolicy: settings.allowedFailsPolicy }),
    ...(settings.groupAliases && { groupAliases: settings.groupAliases }),
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

/** The transport with the config's trust for https backends: an unreadable or bad CA file stops the start. */
function configuredFetch(tls: RouterConfig['settings']['tls']): typeof fetch {
  if (tls?.verify === false) return nodeHttpFetch({ rejectUnauthorized: false })
  if (tls?.caFile === undefined) return nodeHttpFetch()
  let ca: Buffer
  try {
    ca = readFileSync(tls.caFile)
  } catch (error) {
    throw badCaFile(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  try {
    return nodeHttpFetch({ ca })
  } catch {
    throw badCaFile('holds no valid PEM certificate')
  }
}

const badCaFile = (why: string) =>
  new RerankError('invalid_request', `The CA file of ssl_verify (or SSL_VERIFY / SSL_CERT_FILE) ${why}`, {
    param: 'litellm_settings.ssl_verify',
  })

/**
 * `model: local/<name>`: the in-process reranker asked for `<name>` on every call (it serves several models),
 * not whichever it would pick for a request without a model.
 */
function localModelOf(
  deployment: RouterConfig['deployments'][number],
  local: Reranker | undefined,
): Reranker | undefined {
  const model = deployment.model
  if (local === undefined || model === undefined) return local
  return { rerank: (request, options) => local.rerank({ ...request, model }, options) }
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
