export { createRerankHandler } from './create-rerank-handler'
export type { PlainRequest, PlainResponse, RerankHandlerOptions, ServedReranker } from './handler-types'
export {
  createNodeListener,
  type PlainHandler,
  readBody,
  toPlainRequest,
  writePlainResponse,
} from './node-http'
