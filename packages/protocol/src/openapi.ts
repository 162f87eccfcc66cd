import * as z from 'zod'
import { cohereFormat, cohereV2Format } from './formats/cohere/cohere-format'
import type { RerankFormat, RerankFormatName } from './formats/format'
import { jinaFormat } from './formats/jina/jina-format'
import { mixedbreadFormat } from './formats/mixedbread/mixedbread-format'
import { nativeFormat } from './formats/native/native-format'
import { teiFormat } from './formats/tei/tei-format'
import { voyageFormat } from './formats/voyage/voyage-format'

interface FormatDoc {
  summary: string
  error: Record<string, unknown>
}

const messageError = { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] }
const detailError = { type: 'object', properties: { detail: { type: 'string' } }, required: ['detail'] }

/** What the document says of each family's rerank route; its schemas come from the format itself. */
const formatDocs: Partial<Record<RerankFormatName, FormatDoc>> = {
  native: {
    summary: 'Rerank (native: every option, documents returned by default)',
    error: {
      type: 'object',
      properties: {
        error: {
          type: 'object',
          properties: { code: { type: 'string' }, message: { type: 'string' }, param: { type: 'string' } },
          required: ['code', 'message'],
        },
      },
      required: ['error'],
    },
  },
  cohere: {
    summary:
      'Rerank (Cohere v1, answering the Cohere + Jina + Together superset; Together clients use base URL /v1)',
    error: messageError,
  },
  'cohere-v2': { summary: 'Rerank (Cohere v2)', error: messageError },
  jina: { summary: 'Rerank (Jina, documents returned by default)', error: detailError },
  voyage: { summary: 'Rerank (Voyage: the Voyage SDK with baseUrl <server>/voyage/v1)', error: detailError },
  mixedbread: { summary: 'Rerank (mixedbread: input, top_k, return_input)', error: detailError },
  tei: {
    summary: "Rerank (Text Embeddings Inference: texts in, a bare array out; TEI's base URL is <server>/tei)",
    error: {
      type: 'object',
      properties: { error: { type: 'string' }, error_type: { type: 'string' } },
      required: ['error', 'error_type'],
    },
  },
}

/** The routes documented when the caller does not pass its own (a handler passes its route table). */
const defaultRoutes: ReadonlyMap<string, RerankFormat> = new Map<string, RerankFormat>([
  ['/rerank', nativeFormat],
  ['/v1/rerank', cohereFormat],
  ['/v2/rerank', cohereV2Format],
  ['/api/v1/rerank', jinaFormat],
  ['/voyage/v1/rerank', voyageFormat],
  ['/v1/reranking', mixedbreadFormat],
  ['/tei/rerank', teiFormat],
])

const errorStatuses: Record<string, string> = {
  '400': 'Invalid request (the body, a field, or the content type)',
  '401': 'Missing or wrong API key',
  '404': 'Unknown model (the message lists the served models)',
  '405': 'Not POST (the Allow header says so)',
  '408': 'The body was not received in time',
  '413': 'Body, document count or length over the limits',
  '429': 'Rate limited (Retry-After)',
  '503': 'Overloaded or not ready (Retry-After)',
  '504': 'No answer within the deadline',
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >
  return rest
}

const json = (schema: Record<string, unknown>) => ({ 'application/json': { schema } })

/**
 * The OpenAPI 3.1 document of the rerank routes, generated from the same zod schemas that parse requests,
 * so the documentation cannot drift from what the server accepts.
 */
export function rerankOpenApiDocument(
  options: {
    prefix?: string
    title?: string
    version?: string
    /** The rerank routes (path → its format), relative to the prefix; TEI's `/info` comes with TEI's route. */
    routes?: ReadonlyMap<string, RerankFormat>
  } = {},
) {
  const prefix = (options.prefix ?? '').replace(/\/+$/, '')
  const paths: Record<string, unknown> = {}
  const routes = [...(options.routes ?? defaultRoutes)].flatMap(([path, format]) => {
    const doc = formatDocs[format.name]
    return doc ? [{ path, format, ...doc }] : []
  })
  for (const route of routes) {
    const responses: Record<string, unknown> = {
      '200': {
        description: 'Results sorted by relevance',
        content: json(jsonSchema(route.format.responseSchema, 'output')),
      },
    }
    for (const [status, description] of Object.entries(errorStatuses)) {
      responses[status] = { description, content: json(route.error) }
    }
    paths[`${prefix}${route.path}`] = {
      post: {
        summary: route.summary,
        operationId: `rerank${route.format.name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}`,
        requestBody: { required: true, content: json(jsonSchema(route.format.requestSchema, 'input')) },
        responses,
        security: [{ bearer: [] }, { apiKey: [] }, {}],
      },
    }
  }
  // Every GET route the handler serves, so the document lists all of them (a test compares the two lists).
  const get = (summary: string, description: string, contentType = 'application/json') => ({
    get: { summary, responses: { '200': { description, content: { [contentType]: {} } } } },
  })
  paths[`${prefix}/health`] = get('Liveness', '{"status":"ok"} while the process runs')
  paths[`${prefix}/ready`] = get(
    'Readiness (503 until the models are loaded and while saturated)',
    '{"status":"ready"}; 503 with "loading", "saturated" or "failed"',
  )
  paths[`${prefix}/v1/models`] = get('Served models', 'An OpenAI-style model list')
  paths[`${prefix}/stats`] = get('Engine or router statistics', 'Counters and queue state, never secrets')
  paths[`${prefix}/lb/stats`] = get('Engine or router statistics (alias of /stats)', 'As /stats')
  paths[`${prefix}/metrics`] = get(
    'Prometheus metrics',
    'Prometheus text format',
    'text/plain; version=0.0.4; charset=utf-8',
  )
  paths[`${prefix}/openapi.json`] = get('This document', 'OpenAPI 3.1')
  paths[`${prefix}/docs`] = get('A page that renders this document', 'HTML, self-contained', 'text/html')
  for (const route of routes.filter((each) => each.format.name === 'tei')) {
    paths[`${prefix}${route.path.replace(/\/rerank$/, '')}/info`] = get(
      "TEI's model information",
      '{"model_id", "model_type": {"reranker": ...}, "max_client_batch_size"}',
    )
  }
  return {
    openapi: '3.1.0',
    info: { title: options.title ?? 'rerank-kit', version: options.version ?? '0.0.0' },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
    },
  }
}
