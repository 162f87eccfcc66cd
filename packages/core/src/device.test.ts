import { describe, expect, it } from 'vitest'
import { providersForDevice } from './device'
import { onnxruntimeBackends } from './device-probe'

describe('providersForDevice', () => {
  it('auto probes the platform accelerators, then cpu', () => {
    expect(providersForDevice('auto', 'linux')).toEqual(['cuda', 'cpu'])
    expect(providersForDevice('auto', 'win32')).toEqual(['cuda', 'dml', 'cpu'])
    expect(providersForDevice('auto', 'darwin')).toEqual(['coreml', 'cpu'])
    expect(providersForDevice('auto', 'freebsd')).toEqual(['cpu'])
  })

  it('an explicit device is tried alone, and refused where it cannot exist', () => {
    expect(providersForDevice('cpu', 'linux')).toEqual(['cpu'])
    expect(providersForDevice('cuda', 'linux')).toEqual(['cuda'])
    expect(() => providersForDevice('coreml', 'linux')).toThrowError(
      'Device "coreml" is not available on linux',
    )
    expect(() => providersForDevice('dml', 'darwin')).toThrowError('Device "dml" is not available on darwin')
  })
})

describe('onnxruntimeBackends', () => {
  it('lists what the installed onnxruntime-node can run on, cpu bundled', async () => {
    const { version, backends } = await onnxruntimeBackends()
    expect(version).toMatch(/^\d+\.\d+\.\d+/)
    expect(backends).toContainEqual({ name: 'cpu', bundled: true })
  })
})
