import { describe, expect, it } from 'vitest'
import { hubDefaultsFromEnv } from './hub-env'

describe('hubDefaultsFromEnv', () => {
  it('uses the public hub, no token and online mode when nothing is set', () => {
    expect(hubDefaultsFromEnv({})).toEqual({ hubEndpoint: 'https://huggingface.co', offline: false })
  })

  it('reads HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE', () => {
    expect(
      hubDefaultsFromEnv({
        HF_ENDPOINT: 'https://hf-mirror.example',
        HF_TOKEN: ' hf_abc ',
        HF_HUB_OFFLINE: '1',
      }),
    ).toEqual({ hubEndpoint: 'https://hf-mirror.example', token: 'hf_abc', offline: true })
  })

  it("accepts huggingface_hub's truthy spellings for offline and nothing else", () => {
    const offline = (value: string) => hubDefaultsFromEnv({ HF_HUB_OFFLINE: value }).offline
    expect(['1', 'true', 'TRUE', 'yes', 'On'].map(offline)).toEqual([true, true, true, true, true])
    expect(['0', 'false', 'no', '', 'offline'].map(offline)).toEqual([false, false, false, false, false])
  })

  it('treats empty values as unset', () => {
    expect(hubDefaultsFromEnv({ HF_ENDPOINT: '', HF_TOKEN: '  ' })).toEqual({
      hubEndpoint: 'https://huggingface.co',
      offline: false,
    })
  })
})
