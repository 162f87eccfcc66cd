import { cohereFormat, cohereV2Format } from './cohere/cohere-format'
import type { RerankFormat, RerankFormatName } from './format'
import { infinityFormat } from './infinity/infinity-format'
import { jinaFormat } from './jina/jina-format'
import { mixedbreadFormat } from './mixedbread/mixedbread-format'
import { nativeFormat } from './native/native-format'
import { teiFormat } from './tei/tei-format'
import { voyageFormat } from './voyage/voyage-format'

/** Every rerank wire format by name. Infinity's /classify lives apart: its requests are prompts, not pairs. */
export const rerankFormats: Readonly<Record<RerankFormatName, RerankFormat>> = {
  native: nativeFormat,
  cohere: cohereFormat,
  'cohere-v2': cohereV2Format,
  jina: jinaFormat,
  tei: teiFormat,
  infinity: infinityFormat,
  voyage: voyageFormat,
  mixedbread: mixedbreadFormat,
}

export const rerankFormatNames = Object.keys(rerankFormats) as RerankFormatName[]
