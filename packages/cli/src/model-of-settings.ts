import { basename } from 'node:path'
import type { Settings } from './settings'
import { defaultModelName } from './settings-schema'

/** Resolves a path given in the settings against the folder the command was typed in. */
export type ResolvePath = (path: string) => string

export { defaultModelName }

/** The model the settings name: `model` for LocalReranker (a folder or a hub id) and its name in requests. */
export function modelOfSettings(settings: Settings, from: ResolvePath): { model: string; name: string } {
  const model = settings.modelPath ? from(settings.modelPath) : (settings.modelName ?? defaultModelName)
  return { model, name: settings.modelName ?? (settings.modelPath ? basename(model) : model) }
}
