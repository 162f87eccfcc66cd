// The error every call rejects with, so callers need not depend on the protocol package to check it.
export { isRerankErrorCode, RerankError, type RerankErrorCode } from '@rerank-kit/protocol'
export {
  type ClientFormatName,
  clientFormatNames,
  type RerankClientOptions,
  type RetryOptions,
} from './client-options'
export { describeError } from './describe-error'
export { type ClientCallOptions, RerankClient } from './rerank-client'
