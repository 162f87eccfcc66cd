export type { ClientFormatName, RerankClientOptions, RetryOptions } from './client-options'
export { type ClientCallOptions, RerankClient } from './rerank-client'
