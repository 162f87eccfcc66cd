import { RerankError } from '@rerank-kit/protocol'

export type Device = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml'

/** onnxruntime-node execution provider names, in the order a device tries them. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'dml' | 'coreml'

// Which accelerators can exist on each platform (what onnxruntime-node ships providers for).
const acceleratorsByPlatform: Partial<Record<NodeJS.Platform, ExecutionProvider[]>> = {
  linux: ['cuda'],
  win32: ['cuda', 'dml'],
  darwin: ['coreml'],
}

/**
 * The providers a worker tries, in order. `auto` probes the platform's accelerators and ends with cpu, so a
 * missing CUDA install degrades to cpu instead of failing (transformers.js's `auto` fails hard). An explicit
 * device is tried alone: asking for cuda and silently getting cpu would hide a broken deployment.
 */
export function providersForDevice(
  device: Device,
  platform: NodeJS.Platform = process.platform,
): ExecutionProvider[] {
  if (device === 'auto') return [...(acceleratorsByPlatform[platform] ?? []), 'cpu']
  if (device === 'cpu') return ['cpu']
  if (!(acceleratorsByPlatform[platform] ?? []).includes(device)) {
    throw new RerankError('invalid_request', `Device "${device}" is not available on ${platform}`, {
      param: 'device',
    })
  }
  return [device]
}
