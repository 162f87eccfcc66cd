/**
 * Random choices shared by every strategy. Randomness comes only from the injected `random` so tests can
 * script it; it is not consumed when there is nothing to choose, so a scripted test fails loudly if a
 * strategy draws where it should not.
 */

/** One item at random, each equally likely; undefined for an empty list. */
export function pickUniform<T>(items: readonly T[], random: () => number): T | undefined {
  if (items.length <= 1) return items[0]
  // `random()` should be < 1, but an injected one returning exactly 1 must not fall off the end.
  return items[Math.min(Math.floor(random() * items.length), items.length - 1)]
}

/**
 * One item at random, proportional to `weightOf(item)`. Weights that are not positive finite numbers are
 * never picked, unless no item has a positive weight: then every item is equally likely, because an
 * all-zero group must still serve traffic rather than fail.
 */
export function pickWeighted<T>(
  items: readonly T[],
  weightOf: (item: T) => number,
  random: () => number,
): T | undefined {
  const weights = items.map((item) => usableWeight(weightOf(item)))
  const eligible = items.filter((_, index) => (weights[index] ?? 0) > 0)
  if (eligible.length === 0) return pickUniform(items, random)
  if (eligible.length === 1) return eligible[0]

  const total = weights.reduce((sum, weight) => sum + weight, 0)
  const target = random() * total
  let cumulative = 0
  for (const [index, item] of items.entries()) {
    cumulative += weights[index] ?? 0
    if (target < cumulative) return item
  }
  // Rounding can leave `target` a hair above the last cumulative sum: that draw belongs to the last item.
  return eligible[eligible.length - 1]
}

function usableWeight(weight: number): number {
  return Number.isFinite(weight) && weight > 0 ? weight : 0
}
