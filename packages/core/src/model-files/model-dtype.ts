/**
 * Which ONNX export of a model to load. The file names are the ones transformers.js looks for, so a resolved
 * folder loads there unchanged.
 */
export type ModelDtype = 'fp32' | 'fp16' | 'q8' | 'auto'

/** A dtype that names one file: what `auto` turns into once a file is found. */
export type ConcreteDtype = Exclude<ModelDtype, 'auto'>

export const modelDtypes: readonly ModelDtype[] = ['fp32', 'fp16', 'q8', 'auto']

/**
 * `auto` takes the first file a model has, in this order: full precision first (what the model was validated
 * with), then q8 (fast on CPU), then fp16 last (most CPUs emulate it, slowly).
 */
export const autoDtypeOrder: readonly ConcreteDtype[] = ['fp32', 'q8', 'fp16']

const onnxFiles: Readonly<Record<ConcreteDtype, string>> = {
  fp32: 'onnx/model.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q8: 'onnx/model_quantized.onnx',
}

export function isModelDtype(value: unknown): value is ModelDtype {
  return typeof value === 'string' && (modelDtypes as readonly string[]).includes(value)
}

/** The dtypes to try, in order, for a requested dtype. */
export function candidateDtypes(dtype: ModelDtype): readonly ConcreteDtype[] {
  return dtype === 'auto' ? autoDtypeOrder : [dtype]
}

/** Repo-relative path (always `/`-separated) of the ONNX file for a dtype. */
export function onnxFileOf(dtype: ConcreteDtype): string {
  return onnxFiles[dtype]
}

/** Models over protobuf's 2 GB limit keep their weights beside the graph, in `<graph>_data`. */
export function externalDataFileOf(onnxFile: string): string {
  return `${onnxFile}_data`
}
