import { pickUniform } from './weighted-pick'

/**
 * One of the items with the lowest key (keys compare element by element, so `[tpmUsed, rpmUsed]` breaks
 * ties on tokens by requests), ties broken at random so equal deployments share the load instead of the
 * first one in the list taking all of it.
 */
export function pickLowest<T>(
  items: readonly T[],
  keyOf: (item: T) => readonly number[],
  random: () => number,
): T | undefined {
  let lowestKey: readonly number[] | undefined
  let lowest: T[] = []
  for (const item of items) {
    const key = keyOf(item)
    const order = lowestKey === undefined ? -1 : compareKeys(key, lowestKey)
    if (order < 0) {
      lowestKey = key
      lowest = [item]
    } else if (order === 0) {
      lowest.push(item)
    }
  }
  return pickUniform(lowest, random)
}

function compareKeys(left: readonly number[], right: readonly number[]): number {
  const length = Math.max(left.length, right.length)
  for (let index = 0; index < length; index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0)
    if (difference !== 0) return difference
  }
  return 0
}
