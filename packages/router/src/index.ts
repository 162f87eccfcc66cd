export * from './config/index'
export type { RouterDeployment } from './deployment-runtime'
export type { DeploymentSnapshot, PickContext, Strategy, StrategyName } from './deployment-snapshot'
export {
  type AllowedFailsPolicy,
  type FailureClass,
  failureClasses,
  failureClassOf,
  type RetryPolicy,
} from './failure-classes'
export { FallbackState, type FallbackStateOptions } from './fallback-state'
export { MemoryState } from './memory-state'
export type { Readiness } from './readiness'
export { type RedisBreakerState, RedisTimeoutError, redisBreakerDefaults } from './redis-breaker'
export {
  type MinuteCounter,
  RedisState,
  type RedisStateOptions,
  redisStateClientOptions,
} from './redis-state'
export { Router, type RouterOptions } from './router'
export { attemptsOf, type RouterAttempt, RouterAttemptsError } from './router-failure'
export { type RouterFromConfigOptions, routerFromConfig } from './router-from-config'
export type { GroupAlias } from './router-groups'
export type {
  RouterStateStore,
  SharedDeploymentState,
  StateBreakerStatus,
  StateStatus,
  SyncStateOps,
} from './router-state'
export { strategies, strategyByName } from './strategies'
