export {
  type ClientFormatName,
  clientFormatNames,
  type RerankClientOptions,
  type RetryOptions,
} from './client-options'
export { type ClientCallOptions, RerankClient } from './rerank-client'
