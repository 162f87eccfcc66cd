export { type Logger, silentLogger } from '@rerank-kit/protocol'
export { acceleratorAbsence } from './accelerator-absence'
export type { BatchStats } from './batching/batch-scheduler'
export {
  type AcceleratorAbsence,
  type Device,
  type ExecutionProvider,
  type ProviderPlan,
  providerPlan,
  providersForDevice,
} from './device'
export { type OnnxruntimeBackends, onnxruntimeBackends } from './device-probe'
export type { EngineStatsSnapshot } from './engine-stats'
export { LocalReranker, type LocalRerankerOptions } from './local-reranker'
export { defaultThreadsPerWorker, defaultWorkers, ModelEngine, type ModelOptions } from './model-engine'
export { detectFamily, type FamilyName, type ModelFamily } from './model-family'
export * from './model-files'
