export interface OnnxruntimeBackends {
  /** onnxruntime-node's version. */
  version: string
  /** Execution providers this build knows; `bundled: false` ones work only once their libraries are installed. */
  backends: { name: string; bundled: boolean }[]
}

/**
 * What the installed onnxruntime-node can run on, for diagnostics (`rerank-kit check`). Loads the native binding
 * on the calling thread, which scoring never does (inference runs in worker threads), so it is imported here only.
 */
export async function onnxruntimeBackends(): Promise<OnnxruntimeBackends> {
  const ort = await import('onnxruntime-node')
  return {
    version: ort.env.versions.node ?? ort.env.versions.common,
    backends: ort.listSupportedBackends().map(({ name, bundled }) => ({ name, bundled })),
  }
}
