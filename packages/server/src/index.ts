export {
  createRerankHandler,
  defaultMaxBodyBytes,
  type RerankHandler,
  rerankRoutePaths,
} from './create-rerank-handler'
export { createFetchHandler } from './fetch-handler'
export type { PlainRequest, PlainResponse, RerankHandlerOptions, ServedReranker } from './handler-types'
export { KeyRateLimiter, type KeyRateLimits } from './key-rate-limit'
export {
  createNodeListener,
  type PlainHandler,
  readBody,
  readPlainRequest,
  toPlainRequest,
  writePlainResponse,
} from './node-http'
