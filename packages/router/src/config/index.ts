export { type EnvSource, envReferencePrefix, resolveEnvReferences } from './env-references'
export { loadRouterConfig, type ParseRouterConfigOptions, parseRouterConfig } from './load-router-config'
export { splitProviderPrefix } from './normalise-deployments'
export {
  type DeploymentConfig,
  type RouterConfig,
  type RouterSettings,
  routerConfigDefaults,
} from './router-config'
export { formatConfigPath, RouterConfigError, type RouterConfigIssue } from './router-config-error'
export {
  clientFormatNames,
  type RawRouterConfig,
  routerConfigSchema,
  strategyAliases,
  strategyNames,
} from './router-config-schema'
