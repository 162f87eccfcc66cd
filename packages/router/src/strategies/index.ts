import type { Strategy, StrategyName } from '../deployment-snapshot'
import { costBasedRouting } from './cost-based-routing'
import { latencyBasedRouting } from './latency-based-routing'
import { leastBusy } from './least-busy'
import { priorityFailover } from './priority-failover'
import { roundRobin } from './round-robin'
import { simpleShuffle } from './simple-shuffle'
import { usageBasedRouting } from './usage-based-routing'
import { weightedRandom } from './weighted-random'

export {
  costBasedRouting,
  latencyBasedRouting,
  leastBusy,
  priorityFailover,
  roundRobin,
  simpleShuffle,
  usageBasedRouting,
  weightedRandom,
}

export const strategies: Readonly<Record<StrategyName, Strategy>> = Object.freeze({
  'simple-shuffle': simpleShuffle,
  'weighted-random': weightedRandom,
  'round-robin': roundRobin,
  'least-busy': leastBusy,
  'latency-based-routing': latencyBasedRouting,
  'priority-failover': priorityFailover,
  'usage-based-routing': usageBasedRouting,
  'cost-based-routing': costBasedRouting,
})

/** The strategy for a config value; throws with the valid names so a typo is fixed from the message alone. */
export function strategyByName(name: string): Strategy {
  // Object.hasOwn, not `in`: "toString" or "constructor" must not resolve to a prototype method.
  if (Object.hasOwn(strategies, name)) return strategies[name as StrategyName]
  throw new Error(
    `Unknown routing strategy ${JSON.stringify(name)}; valid strategies: ${Object.keys(strategies).join(', ')}`,
  )
}
