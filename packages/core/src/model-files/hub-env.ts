export interface HubEnvDefaults {
  hubEndpoint: string
  token?: string
  offline: boolean
}

export type EnvLookup = Readonly<Record<string, string | undefined>>

export const defaultHubEndpoint = 'https://huggingface.co'

// huggingface_hub's truthy spellings, so a machine set up for the Python tools behaves the same here.
const truthy = new Set(['1', 'true', 'yes', 'on'])

/**
 * Where model resolution reads the environment (with defaultCacheDir), only for options the caller left out. Uses the
 * variables huggingface_hub documents: `HF_ENDPOINT` (a mirror), `HF_TOKEN` (private or gated models) and
 * `HF_HUB_OFFLINE` (`1`/`true`/`yes`/`on`: never touch the network). Empty values count as unset.
 */
export function hubDefaultsFromEnv(env: EnvLookup = process.env): HubEnvDefaults {
  const value = (name: string) => {
    const raw = env[name]?.trim()
    return raw ? raw : undefined
  }
  const token = value('HF_TOKEN')
  return {
    hubEndpoint: value('HF_ENDPOINT') ?? defaultHubEndpoint,
    ...(token === undefined ? {} : { token }),
    offline: truthy.has(value('HF_HUB_OFFLINE')?.toLowerCase() ?? ''),
  }
}
