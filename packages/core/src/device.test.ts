import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { acceleratorAbsence } from './accelerator-absence'
import { providerPlan, providersForDevice } from './device'
import { onnxruntimeBackends } from './device-probe'

describe('providersForDevice', () => {
  it('auto probes the platform accelerators (WebGPU bundled everywhere), then cpu', () => {
    expect(providersForDevice('auto', 'linux')).toEqual(['cuda', 'webgpu', 'cpu'])
    expect(providersForDevice('auto', 'win32')).toEqual(['cuda', 'dml', 'webgpu', 'cpu'])
    expect(providersForDevice('auto', 'darwin')).toEqual(['coreml', 'webgpu', 'cpu'])
    expect(providersForDevice('auto', 'freebsd')).toEqual(['cpu'])
  })

  it('an explicit device is tried alone, and refused where it cannot exist', () => {
    expect(providersForDevice('cpu', 'linux')).toEqual(['cpu'])
    expect(providersForDevice('cuda', 'linux')).toEqual(['cuda'])
    expect(providersForDevice('webgpu', 'darwin')).toEqual(['webgpu'])
    expect(() => providersForDevice('coreml', 'linux')).toThrowError(
      'Device "coreml" is not available on linux',
    )
    expect(() => providersForDevice('dml', 'darwin')).toThrowError('Device "dml" is not available on darwin')
  })

  it('auto leaves out the accelerators that cannot start, saying why; an explicit one is still tried', () => {
    const absent = (provider: string) => (provider === 'cuda' ? 'no CUDA libraries' : undefined)
    expect(providerPlan('auto', 'linux', absent)).toEqual({
      providers: ['webgpu', 'cpu'],
      skipped: [{ provider: 'cuda', reason: 'no CUDA libraries' }],
    })
    expect(providerPlan('cuda', 'linux', absent)).toEqual({
      providers: ['cuda'],
      skipped: [],
      missing: 'no CUDA libraries',
    })
    expect(providerPlan('webgpu', 'linux', absent)).toEqual({ providers: ['webgpu'], skipped: [] })
  })
})

describe('acceleratorAbsence (this machine, from files alone)', () => {
  it('names CUDA absent exactly when its provider library is missing from onnxruntime-node', () => {
    const folder = join(
      dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')),
      `bin/napi-v6/linux/${process.arch}`,
    )
    const installed = existsSync(join(folder, 'libonnxruntime_providers_cuda.so'))
    const reason = acceleratorAbsence('linux')('cuda')
    if (installed) expect(reason).toBeUndefined()
    else
      expect(reason).toBe(
        'its provider libraries are not installed (ONNXRUNTIME_NODE_INSTALL_CUDA=v12 at install)',
      )
  })

  it('names WebGPU absent on Linux without a Vulkan loader, and finds one on LD_LIBRARY_PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rerank-kit-vulkan-'))
    try {
      // An empty file stands for the loader: only its presence is checked, nothing is loaded.
      writeFileSync(join(dir, 'libvulkan.so.1'), '')
      expect(
        acceleratorAbsence('linux', { LD_LIBRARY_PATH: `/nonexistent:${dir}` })('webgpu'),
      ).toBeUndefined()
      const systemLoader = [
        '/usr/lib/x86_64-linux-gnu',
        '/usr/lib64',
        '/usr/lib',
        '/lib/x86_64-linux-gnu',
      ].some((folder) => existsSync(join(folder, 'libvulkan.so.1')))
      if (!systemLoader) {
        expect(acceleratorAbsence('linux', {})('webgpu')).toBe(
          'no Vulkan loader (libvulkan.so.1): install libvulkan1 and the GPU vendor Vulkan driver',
        )
      }
      // Elsewhere Dawn uses the system's own graphics API: nothing to check.
      expect(acceleratorAbsence('darwin', {})('webgpu')).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('onnxruntimeBackends', () => {
  it('lists what the installed onnxruntime-node can run on, cpu bundled', async () => {
    const { version, backends } = await onnxruntimeBackends()
    expect(version).toMatch(/^\d+\.\d+\.\d+/)
    expect(backends).toContainEqual({ name: 'cpu', bundled: true })
  })
})
