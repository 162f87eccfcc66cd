// A separate entry so the main one never loads `@ai-sdk/provider` (an optional peer, only needed here).
export type { RerankingModelOptions, RerankKitProviderOptions } from './reranking-model'
export { providerOptionsKey, rerankingModel } from './reranking-model'
