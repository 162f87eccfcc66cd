export type { HistogramSnapshot } from './bucket-histogram'
export { BucketHistogram } from './bucket-histogram'
export type { FieldNames } from './canonical-request'
export {
  canonicalFieldNames,
  finalizeRequest,
  parseRerankRequest,
  rerankRequestSchema,
  toWellFormed,
} from './canonical-request'
export { documentText, hasRankableText } from './document-text'
export type { RerankErrorCode, RerankErrorOptions } from './errors/rerank-error'
export {
  codeFromStatus,
  failedBeforeSending,
  fromUnknown,
  isRerankErrorCode,
  isRetryable,
  RerankError,
  rerankErrorCodes,
  rerankErrorTable,
  statusOfCode,
  systemErrorCode,
} from './errors/rerank-error'
export * from './formats/cohere/cohere-api'
export { cohereFormat, cohereV2Format } from './formats/cohere/cohere-format'
export type { RerankFormat, RerankFormatName } from './formats/format'
export { rerankFormatNames, rerankFormats } from './formats/index'
export * from './formats/infinity/infinity-api'
export type {
  ClassifyPromptOptions,
  ClassifyRequest,
  ClassifyWireRequest,
  ClassifyWireResponse,
} from './formats/infinity/infinity-classify'
export {
  classifyRequestSchema,
  classifyResponseSchema,
  formatClassifyRequest,
  formatClassifyResponse,
  maxClassifyInputs,
  parseClassifyRequest,
  parseClassifyResponse,
  scoreFromLabels,
} from './formats/infinity/infinity-classify'
export { formatInfinityError, infinityFormat } from './formats/infinity/infinity-format'
export * from './formats/jina/jina-api'
export { jinaFormat } from './formats/jina/jina-format'
export * from './formats/mixedbread/mixedbread-api'
export { mixedbreadFormat } from './formats/mixedbread/mixedbread-format'
export * from './formats/native/native-api'
export { nativeFormat } from './formats/native/native-format'
export * from './formats/tei/tei-api'
export { teiFormat } from './formats/tei/tei-format'
export * from './formats/voyage/voyage-api'
export { voyageFormat } from './formats/voyage/voyage-format'
export { backoffDelayMs, delay } from './http/backoff'
export type { HttpErrorResponse } from './http/error-response'
export { errorFromHttpResponse, errorMessageOf, errorResponse } from './http/error-response'
export { joinUrl } from './http/join-url'
export type { JsonBodyLimits } from './http/json-body'
export { isJsonContentType, parseJsonBody } from './http/json-body'
export type { HeaderLookup } from './http/retry-after'
export { parseRetryAfter, retryAfterSeconds } from './http/retry-after'
export { LogThrottle } from './log-throttle'
export { type Logger, silentLogger } from './logger'
export { rerankOpenApiDocument } from './openapi'
export type { DecoderPromptTemplate, DecoderTemplateName } from './prompt-templates'
export {
  decoderTemplates,
  mxbaiRerankV2Template,
  qwen3DefaultInstruction,
  qwen3RerankerTemplate,
  renderPrompt,
} from './prompt-templates'
export type { RerankRequestLimits } from './request-limits'
export { checkRequestLimits, modelNotFound } from './request-limits'
export type { RerankCallOptions, RerankDocument, RerankDocumentObject, RerankRequest } from './rerank-request'
export type {
  RerankResponse,
  RerankResult,
  RerankRouting,
  RerankTimings,
  RerankUsage,
} from './rerank-response'
export { compareResults, rankScores } from './rerank-response'
export type { Reranker } from './reranker'
export type { Span, TraceContext } from './tracing'
export {
  endSpan,
  incomingTraceContext,
  inSpan,
  SpanKind,
  startSpan,
  traceHeaders,
  withContext,
} from './tracing'
