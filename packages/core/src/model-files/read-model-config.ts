import { readFile } from 'node:fs/promises'
import { RerankError } from '@rerank-kit/protocol'
import { pathInDir } from './cache-layout'

/** config.json as a plain object: the model family, labels and sizes the loader reads from it. */
export async function readModelConfig(model: string, dir: string): Promise<Record<string, unknown>> {
  const path = pathInDir(dir, 'config.json')
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (cause) {
    throw new RerankError('invalid_request', `Model "${model}": ${path} is not valid JSON`, {
      param: 'model',
      cause,
    })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RerankError('invalid_request', `Model "${model}": ${path} is not a JSON object`, {
      param: 'model',
    })
  }
  return parsed as Record<string, unknown>
}
