import {
  type DecoderTemplateName,
  decoderTemplates,
  maxClassifyInputs,
  RerankError,
} from '@rerank-kit/protocol'
import * as z from 'zod'
import { type ClientFormatName, clientFormatNames, type RerankClientOptions } from './client-options'

const positiveInt = z.number().int().positive()
const nonNegative = z.number().nonnegative()

const optionsSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  format: z.enum(clientFormatNames as [ClientFormatName, ...ClientFormatName[]]),
  apiKey: z.string().optional(),
  path: z.string().optional(),
  model: z.string().min(1).optional(),
  timeoutMs: positiveInt.optional(),
  retry: z
    .union([
      z.literal(false),
      z.number().int().nonnegative(),
      z.object({
        limit: z.number().int().nonnegative().optional(),
        backoffMs: nonNegative.optional(),
        maxBackoffMs: nonNegative.optional(),
        maxRetryAfterMs: nonNegative.optional(),
      }),
    ])
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
  maxBatchSize: positiveInt.optional(),
  template: z
    .enum(Object.keys(decoderTemplates) as [DecoderTemplateName, ...DecoderTemplateName[]])
    .optional(),
  instruction: z.string().optional(),
  maxInputChars: positiveInt.optional(),
  maxResponseBytes: positiveInt.optional(),
})

/** A wrong option fails at construction, naming the option, not later on the first call. */
export function checkClientOptions(options: RerankClientOptions): void {
  const result = optionsSchema.safeParse(options)
  if (!result.success) {
    const issue = result.error.issues[0]!
    const param = issue.path.join('.')
    throw new RerankError('invalid_request', `Invalid RerankClient option ${param}: ${issue.message}`, {
      param,
    })
  }
  if (options.format === 'infinity-classify' && (options.maxBatchSize ?? 0) > maxClassifyInputs) {
    throw new RerankError(
      'invalid_request',
      `Invalid RerankClient option maxBatchSize: Infinity classifies at most ${maxClassifyInputs} inputs per call`,
      { param: 'maxBatchSize' },
    )
  }
}
