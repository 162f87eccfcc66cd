import { basename, isAbsolute, resolve } from 'node:path'
import { RerankError } from '@rerank-kit/protocol'
import { fileSize } from './atomic-file'
import { pathInDir } from './cache-layout'
import {
  type ConcreteDtype,
  candidateDtypes,
  externalDataFileOf,
  type ModelDtype,
  onnxFileOf,
} from './model-dtype'
import { optionalModelFiles, requiredModelFiles } from './model-file-names'
import type { CachedFile } from './resolved-manifest'

/** Written as a path (absolute, `./`, `../`) rather than a hub id; an existing folder also counts (checked apart). */
export function looksLikePath(model: string): boolean {
  return isAbsolute(model) || /^\.\.?([\\/]|$)/.test(model)
}

/**
 * The name a model is served under when none is given: a hub id as is, a folder by its own name. The path
 * would otherwise be listed by /v1/models and echoed in every answer, telling clients the server's file
 * layout. A hub id has one slash, so two or more (`fixtures/models/tiny`) are a path as well.
 */
export function servedNameOf(options: { model: string; name?: string | undefined }): string {
  if (options.name !== undefined) return options.name
  const { model } = options
  if (!looksLikePath(model) && model.split(/[\\/]/).filter(Boolean).length <= 2) return model
  return basename(resolve(model)) || model
}

export type ModelDirInspection =
  | { complete: true; dtype: ConcreteDtype; files: CachedFile[] }
  | { complete: false; missing: string[] }

/**
 * What a folder on disk (local model or cached revision) holds for a dtype, without any network: either the
 * chosen dtype and the files present (optional ones included when there), or every missing required file.
 */
export async function inspectModelDir(dir: string, dtype: ModelDtype): Promise<ModelDirInspection> {
  const files: CachedFile[] = []
  const missing: string[] = []
  const look = async (file: string) => {
    const size = await fileSize(pathInDir(dir, file))
    if (size !== undefined) files.push({ file, size })
    return size !== undefined
  }

  for (const file of requiredModelFiles) {
    if (!(await look(file))) missing.push(file)
  }
  let chosen: ConcreteDtype | undefined
  for (const candidate of candidateDtypes(dtype)) {
    if (await look(onnxFileOf(candidate))) {
      chosen = candidate
      break
    }
  }
  if (chosen === undefined) missing.push(describeOnnxAlternatives(dtype))
  if (chosen === undefined || missing.length > 0) return { complete: false, missing: missing.sort() }

  for (const file of [...optionalModelFiles, externalDataFileOf(onnxFileOf(chosen))]) await look(file)
  return { complete: true, dtype: chosen, files }
}

/** `onnx/model.onnx`, or for auto `onnx/model.onnx (or onnx/model_quantized.onnx, onnx/model_fp16.onnx)`. */
function describeOnnxAlternatives(dtype: ModelDtype): string {
  const [first, ...others] = candidateDtypes(dtype).map(onnxFileOf)
  return others.length === 0 ? `${first}` : `${first} (or ${others.join(', ')})`
}

/** Names the model, the folder and every missing file, so one error says all that needs fixing. */
export function missingFilesError(model: string, situation: string, dir: string, missing: readonly string[]) {
  return new RerankError(
    'not_found',
    `Model "${model}" ${situation}: missing ${missing.join(', ')} in ${dir}`,
    {
      param: 'model',
    },
  )
}
