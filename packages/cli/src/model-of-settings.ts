import { basename } from 'node:path'
import type { Settings } from './settings'

/** Resolves a path given in the settings against the folder the command was typed in. */
export type ResolvePath = (path: string) => string

// The seed defaulted to BAAI/bge-reranker-v2-m3, whose repo has no ONNX files; this is a known ONNX export.
export const defaultModelName = 'Xenova/ms-marco-MiniLM-L-6-v2'

/** The model the settings name: `model` for LocalReranker (a folder or a hub id) and its name in requests. */
export function modelOfSettings(settings: Settings, from: ResolvePath): { model: string; name: string } {
  const model = settings.modelPath ? from(settings.modelPath) : (settings.modelName ?? defaultModelName)
  return { model, name: settings.modelName ?? (settings.modelPath ? basename(model) : model) }
}
