import type { z } from 'zod'
import type { RerankError } from '../errors/rerank-error'
import type { RerankRequest } from '../rerank-request'
import type { RerankResponse } from '../rerank-response'

export type RerankFormatName =
  | 'native'
  | 'cohere'
  | 'cohere-v2'
  | 'jina'
  | 'tei'
  | 'infinity'
  | 'voyage'
  | 'mixedbread'

/**
 * One wire format, both directions. A server parses requests and formats responses; a client formats
 * requests and parses responses; fake servers in tests use the server side. Parsers throw `RerankError`:
 * `invalid_request` for a bad request, `upstream_error` for a response that does not fit the format.
 */
export interface RerankFormat<WireRequest = unknown, WireResponse = unknown> {
  readonly name: RerankFormatName
  /** The path a server of this format answers on, relative to its base URL. */
  readonly defaultPath: string
  readonly requestSchema: z.ZodType
  readonly responseSchema: z.ZodType
  parseRequest(body: unknown): RerankRequest
  formatRequest(request: RerankRequest): WireRequest
  /** With the request, indexes are checked against it and its documents are attached when it asked for them. */
  parseResponse(body: unknown, request?: RerankRequest): RerankResponse
  formatResponse(response: RerankResponse, request: RerankRequest): WireResponse
  /**
   * `JSON.stringify(formatResponse(...))`, written faster: servers answer with it when a format has it. `id`
   * is the answer's id when the response has none (a server passes its request id); formats with an id field
   * otherwise make a new one, and formats without one ignore it.
   */
  formatResponseJson?(response: RerankResponse, request: RerankRequest, id?: string): string
  /** The JSON error body this family answers with (status and Retry-After come from the error itself). */
  formatError(error: RerankError): unknown
}
