import { describe, expect, it } from 'vitest'
import { delay } from './backoff'

describe('delay', () => {
  it('ends early with aborted when the caller aborts', async () => {
    const controller = new AbortController()
    const started = Date.now()
    const waiting = delay(10_000, controller.signal)
    setTimeout(() => controller.abort(), 10)
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' })
    expect(Date.now() - started).toBeLessThan(5_000)
    await expect(delay(1, AbortSignal.abort())).rejects.toMatchObject({ code: 'aborted' })
    await expect(delay(1)).resolves.toBeUndefined()
  })
})
