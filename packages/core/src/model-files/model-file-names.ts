/**
 * Files a cross-encoder folder needs besides its ONNX graph, in download order: the small config first, so a
 * wrong repo fails before anything large is fetched.
 */
export const requiredModelFiles: readonly string[] = [
  'config.json',
  'tokenizer_config.json',
  'tokenizer.json',
]

/** Present in many repos, needed by none of our loaders: fetched when there, fine when absent. */
export const optionalModelFiles: readonly string[] = ['special_tokens_map.json']
