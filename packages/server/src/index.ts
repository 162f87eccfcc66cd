/** prom-client's default registry: what the standalone server's metrics go to, beside the process's own. */
export { register as defaultMetricsRegistry } from 'prom-client'
export { AuthFailureLimiter, type AuthFailureLimits } from './auth-failure-limit'
export { BodyBudget } from './body-budget'
export { ConnectionLimit } from './connection-limit'
export {
  createRerankHandler,
  defaultMaxBodyBytes,
  type RequestHead,
  type RerankHandler,
  type RerankRoutePaths,
  rerankRoutePaths,
} from './create-rerank-handler'
export { createFetchHandler } from './fetch-handler'
export type { PlainRequest, PlainResponse, RerankHandlerOptions, ServedReranker } from './handler-types'
export { type InFlightLimitedReranker, type InFlightLimitOptions, limitInFlight } from './in-flight-limit'
export { KeyRateLimiter, type KeyRateLimits } from './key-rate-limit'
export { type ModelNameOptions, parseModelAliases, unservedAliasTargets } from './model-names'
export {
  createNodeListener,
  type PlainHandler,
  precheckNodeRequest,
  type ReadPlainRequestOptions,
  readBody,
  readPlainRequest,
  serveNodeRequest,
  toPlainRequest,
  writePlainResponse,
} from './node-http'
export {
  createRerankServer,
  defaultMaxBodyBytesInFlight,
  defaultMaxConnections,
  type RerankServerOptions,
} from './node-server'
export {
  parseRouteFamilyPrefixes,
  type RouteFamily,
  type RouteFamilyPrefixes,
  routeFamilies,
  routeFamilyNames,
} from './route-families'
