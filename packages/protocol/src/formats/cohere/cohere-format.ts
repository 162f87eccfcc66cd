import { finalizeRequest } from '../../canonical-request'
import { documentText } from '../../document-text'
import { RerankError } from '../../errors/rerank-error'
import type { RerankRequest } from '../../rerank-request'
import type { RerankResponse } from '../../rerank-response'
import type { RerankFormat } from '../format'
import { definedEntries, eitherAlias } from '../request-helpers'
import {
  documentAsObject,
  jsonString,
  newResponseId,
  relevanceResults,
  relevanceResultsJson,
  responseFromWire,
  searchUnitsOf,
} from '../response-helpers'
import { parseWith } from '../zod-issues'
import {
  type CohereWireError,
  type CohereWireMeta,
  type CohereWireRequest,
  type CohereWireResponse,
  cohereResponseSchema,
  cohereV1RequestSchema,
  cohereV2RequestSchema,
  type TogetherUsage,
} from './cohere-api'

const rootMessage = 'Invalid request: the body must be a JSON object'

function parseCohereRequest(body: unknown, version: '1' | '2'): RerankRequest {
  // v2's schema is v1's without max_chunks_per_doc, so one output type reads both.
  const schema = (
    version === '1' ? cohereV1RequestSchema : cohereV2RequestSchema
  ) as typeof cohereV1RequestSchema
  const wire = parseWith(schema, body, 'request', rootMessage)
  const documents = eitherAlias<RerankRequest['documents']>(wire, 'documents', 'texts', { required: true })
  const topN = eitherAlias<number>(wire, 'top_n', 'top_k', { required: false, same: (a, b) => a === b })
  return finalizeRequest(
    {
      query: wire.query,
      documents: documents.value!,
      topN: topN.value,
      // Cohere's default; Jina callers that rely on their default of true use /api/v1/rerank.
      returnDocuments: wire.return_documents ?? false,
      model: wire.model,
      rankFields: wire.rank_fields,
      maxChunksPerDoc: wire.max_chunks_per_doc,
      maxTokensPerDoc: wire.max_tokens_per_doc,
    },
    { query: 'query', documents: documents.name, topN: topN.name, rankFields: 'rank_fields' },
  )
}

function parseCohereResponse(body: unknown, request?: RerankRequest): RerankResponse {
  const wire = parseWith(
    cohereResponseSchema,
    body,
    'response',
    'Invalid response from the reranker: expected an object',
  )
  const billed = wire.meta?.billed_units
  const totalTokens =
    wire.meta?.tokens?.input_tokens ??
    billed?.input_tokens ??
    billed?.total_tokens ??
    wire.usage?.total_tokens
  return responseFromWire(
    wire.results.map((item) => ({ index: item.index, score: item.relevance_score, document: item.document })),
    { id: wire.id, model: wire.model, usage: { totalTokens, searchUnits: billed?.search_units } },
    request,
  )
}

function cohereMeta(response: RerankResponse, request: RerankRequest, version: '1' | '2'): CohereWireMeta {
  const meta: CohereWireMeta = {
    api_version: { version },
    billed_units: { search_units: searchUnitsOf(response, request) },
  }
  if (response.usage?.totalTokens !== undefined) meta.tokens = { input_tokens: response.usage.totalTokens }
  return meta
}

/** cohereMeta's JSON text. */
function cohereMetaJson(response: RerankResponse, request: RerankRequest, version: '1' | '2'): string {
  const tokens = response.usage?.totalTokens
  return `{"api_version":{"version":"${version}"},"billed_units":{"search_units":${searchUnitsOf(response, request)}}${tokens === undefined ? '' : `,"tokens":{"input_tokens":${tokens}}`}}`
}

/**
 * Cohere's clients ignore `usage`; Together's (`@ai-sdk/togetherai`) require it with these three fields, so
 * both answer from one route. Only when the reranker counted its tokens: an unknown count is not written as 0.
 */
function togetherUsage(response: RerankResponse): TogetherUsage | undefined {
  const tokens = response.usage?.totalTokens
  return tokens === undefined
    ? undefined
    : { prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens }
}

/** togetherUsage's JSON text, with its leading comma (empty without a count). */
function togetherUsageJson(response: RerankResponse): string {
  const tokens = response.usage?.totalTokens
  return tokens === undefined
    ? ''
    : `,"usage":{"prompt_tokens":${tokens},"completion_tokens":0,"total_tokens":${tokens}}`
}

function formatCohereError(error: RerankError): CohereWireError {
  return { message: error.publicMessage }
}

export const cohereFormat: RerankFormat<CohereWireRequest, CohereWireResponse> = {
  name: 'cohere',
  defaultPath: '/v1/rerank',
  requestSchema: cohereV1RequestSchema,
  responseSchema: cohereResponseSchema,
  parseRequest: (body) => parseCohereRequest(body, '1'),
  formatRequest(request) {
    return definedEntries({
      model: request.model,
      query: request.query,
      documents: request.documents,
      top_n: request.topN,
      rank_fields: request.rankFields,
      return_documents: request.returnDocuments,
      max_chunks_per_doc: request.maxChunksPerDoc,
      max_tokens_per_doc: request.maxTokensPerDoc,
    })
  },
  parseResponse: parseCohereResponse,
  // The /v1/rerank route answers Cohere and Jina callers alike: Cohere's fields plus Jina's model and usage.
  formatResponse(response, request) {
    const wire: CohereWireResponse = {
      id: response.id ?? newResponseId(),
      model: response.model ?? request.model ?? 'unknown',
      results: relevanceResults(response, request, documentAsObject),
      meta: cohereMeta(response, request, '1'),
    }
    const usage = togetherUsage(response)
    if (usage) wire.usage = usage
    return wire
  },
  // formatResponse's text, field for field (format-response-json.test.ts holds the two to it).
  formatResponseJson(response, request, id) {
    const idJson = jsonString(response.id ?? id ?? newResponseId())
    const model = jsonString(response.model ?? request.model ?? 'unknown')
    return `{"id":${idJson},"model":${model},"results":${relevanceResultsJson(response, request)},"meta":${cohereMetaJson(response, request, '1')}${togetherUsageJson(response)}}`
  },
  formatError: formatCohereError,
}

export const cohereV2Format: RerankFormat<CohereWireRequest, CohereWireResponse> = {
  name: 'cohere-v2',
  defaultPath: '/v2/rerank',
  requestSchema: cohereV2RequestSchema,
  responseSchema: cohereResponseSchema,
  parseRequest: (body) => parseCohereRequest(body, '2'),
  // What Cohere v2 itself accepts: a model, string documents (objects rendered as YAML-like text), no
  // return_documents (documents are attached from the request when the response is parsed).
  formatRequest(request) {
    if (!request.model) {
      throw new RerankError('invalid_request', 'Cohere v2 requires a model', { param: 'model' })
    }
    return definedEntries({
      model: request.model,
      query: request.query,
      documents: request.documents.map((document) => documentText(document, request.rankFields)),
      top_n: request.topN,
      max_tokens_per_doc: request.maxTokensPerDoc,
    })
  },
  parseResponse: parseCohereResponse,
  formatResponse(response, request) {
    const wire: CohereWireResponse = {
      id: response.id ?? newResponseId(),
      results: relevanceResults(response, request, documentAsObject),
      meta: cohereMeta(response, request, '2'),
    }
    const usage = togetherUsage(response)
    if (usage) wire.usage = usage
    return wire
  },
  formatResponseJson(response, request, id) {
    const idJson = jsonString(response.id ?? id ?? newResponseId())
    return `{"id":${idJson},"results":${relevanceResultsJson(response, request)},"meta":${cohereMetaJson(response, request, '2')}${togetherUsageJson(response)}}`
  },
  formatError: formatCohereError,
}
