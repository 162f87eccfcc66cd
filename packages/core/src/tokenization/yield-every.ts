import { setImmediate } from 'node:timers/promises'

/**
 * Long synchronous loops (tokenizing a thousand documents) would stall the host's event loop. This yields to
 * it whenever `budgetMs` of work has passed since the last yield, so timers and I/O keep their pace.
 */
export function createYielder(budgetMs = 4): () => Promise<void> | undefined {
  let since = performance.now()
  return () => {
    if (performance.now() - since < budgetMs) return undefined
    return setImmediate().then(() => {
      since = performance.now()
    })
  }
}
