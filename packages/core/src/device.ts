import { RerankError } from '@rerank-kit/protocol'

export type Device = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu'

/** onnxruntime-node execution provider names, in the order a device tries them. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu'

// Which accelerators can exist on each platform (what onnxruntime-node ships providers for). WebGPU is bundled
// in every build (Dawn: Vulkan on Linux, D3D12 on Windows, Metal on macOS); CUDA needs libraries installed apart.
const acceleratorsByPlatform: Partial<Record<NodeJS.Platform, ExecutionProvider[]>> = {
  linux: ['cuda', 'webgpu'],
  win32: ['cuda', 'dml', 'webgpu'],
  darwin: ['coreml', 'webgpu'],
}

/** Why an accelerator cannot start here, found without loading it; undefined when it may. */
export type AcceleratorAbsence = (provider: ExecutionProvider) => string | undefined

/** The providers a device tries, the accelerators `auto` left out with why, and what an explicit one lacks. */
export interface ProviderPlan {
  providers: ExecutionProvider[]
  skipped: { provider: ExecutionProvider; reason: string }[]
  /** An explicit accelerator that the files say cannot start (it is still tried): what is missing. */
  missing?: string
}

/**
 * The providers a worker tries, in order. `auto` takes the platform's accelerators that may start (those
 * `absent` names no reason against: CUDA only with its libraries installed, WebGPU only with a Vulkan loader on
 * Linux) and ends with cpu, so a machine without a GPU degrades to cpu instead of failing (transformers.js's
 * `auto` fails hard). An explicit device is tried alone: asking for a GPU and silently getting cpu would hide a
 * broken deployment.
 */
export function providerPlan(
  device: Device,
  platform: NodeJS.Platform = process.platform,
  absent: AcceleratorAbsence = () => undefined,
): ProviderPlan {
  if (device === 'cpu') return { providers: ['cpu'], skipped: [] }
  const accelerators = acceleratorsByPlatform[platform] ?? []
  if (device === 'auto') {
    const providers: ExecutionProvider[] = []
    const skipped: ProviderPlan['skipped'] = []
    for (const provider of accelerators) {
      const reason = absent(provider)
      if (reason === undefined) providers.push(provider)
      else skipped.push({ provider, reason })
    }
    return { providers: [...providers, 'cpu'], skipped }
  }
  if (!accelerators.includes(device)) {
    throw new RerankError('invalid_request', `Device "${device}" is not available on ${platform}`, {
      param: 'device',
    })
  }
  const missing = absent(device)
  return missing === undefined
    ? { providers: [device], skipped: [] }
    : { providers: [device], skipped: [], missing }
}

/** The providers alone (see providerPlan). */
export function providersForDevice(
  device: Device,
  platform: NodeJS.Platform = process.platform,
  absent?: AcceleratorAbsence,
): ExecutionProvider[] {
  return providerPlan(device, platform, absent).providers
}
