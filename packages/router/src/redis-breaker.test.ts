import { closeSync, openSync, read } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  RedisBreaker,
  RedisBreakerOpenError,
  type RedisBreakerOptions,
  RedisTimeoutError,
  redisBreakerDefaults,
  withTimeout,
} from './redis-breaker'

// The breaker's states and transitions on an injected clock (no waiting), and its timeout on real timers.

function breakerOn(options: RedisBreakerOptions = {}) {
  let clock = 1_000_000
  const events: string[] = []
  const breaker = new RedisBreaker({
    now: () => clock,
    onOpen: (reason) => events.push(`open: ${reason instanceof Error ? reason.message : String(reason)}`),
    onClose: (openedAt) => events.push(`close: ${clock - openedAt} ms on memory`),
    ...options,
  })
  return {
    breaker,
    events,
    advance(ms: number) {
      clock += ms
    },
  }
}

const refused = () => Promise.reject(new Error('ECONNREFUSED'))
const answers = () => Promise.resolve('OK')
/** Runs a call through the breaker and says how it went, never rejecting. */
const attempt = (breaker: RedisBreaker, command: () => Promise<unknown>) =>
  breaker.call(command).then(
    () => 'ok',
    (error: unknown) => (error instanceof RedisBreakerOpenError ? 'skipped' : 'failed'),
  )

describe('RedisBreaker', () => {
  it('has the documented defaults', () => {
    const { breaker } = breakerOn()
    expect(redisBreakerDefaults).toEqual({ failureThreshold: 3, openMs: 5_000, timeoutMs: 200 })
    expect([breaker.failureThreshold, breaker.openMs, breaker.timeoutMs]).toEqual([3, 5_000, 200])
    expect(breaker.snapshot()).toEqual({ state: 'closed', since: 1_000_000, switches: 0, failures: 0 })
  })

  it('stays closed below the threshold; a success resets the count', async () => {
    const { breaker, events } = breakerOn()
    expect(await attempt(breaker, refused)).toBe('failed')
    expect(await attempt(breaker, refused)).toBe('failed')
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', failures: 2 })
    expect(await attempt(breaker, answers)).toBe('ok')
    expect(breaker.snapshot().failures).toBe(0)
    expect(await attempt(breaker, refused)).toBe('failed')
    expect(await attempt(breaker, refused)).toBe('failed')
    expect(breaker.state).toBe('closed')
    expect(events).toEqual([])
  })

  it('opens after N failures in a row, then makes no call at all for openMs', async () => {
    const { breaker, events, advance } = breakerOn({ failureThreshold: 3, openMs: 1_000 })
    for (let i = 0; i < 3; i++) expect(await attempt(breaker, refused)).toBe('failed')
    expect(breaker.snapshot()).toEqual({
      state: 'open',
      since: 1_000_000,
      memorySince: 1_000_000,
      probeAt: 1_001_000,
      switches: 1,
      failures: 0,
    })
    expect(events).toEqual(['open: ECONNREFUSED'])
    let called = 0
    const counted = () => {
      called++
      return answers()
    }
    advance(999)
    expect(breaker.claimProbe()).toBe(false)
    expect(await attempt(breaker, counted)).toBe('skipped')
    expect(called).toBe(0)
    expect(breaker.admits).toBe(false)
  })

  it('lets exactly one probe through after openMs; its success closes and counts one switch back', async () => {
    const { breaker, events, advance } = breakerOn({ openMs: 1_000 })
    breaker.trip(new Error('down'))
    advance(1_000)
    expect(breaker.claimProbe()).toBe(true)
    expect(breaker.state).toBe('half-open')
    // Everyone else keeps serving from memory while the probe runs.
    expect(breaker.claimProbe()).toBe(false)
    expect(await attempt(breaker, answers)).toBe('skipped')
    expect(await breaker.probe(answers)).toBe('OK')
    advance(5)
    breaker.probeSucceeded()
    expect(breaker.snapshot()).toEqual({ state: 'closed', since: 1_001_005, switches: 2, failures: 0 })
    expect(events).toEqual(['open: down', 'close: 1005 ms on memory'])
    expect(await attempt(breaker, answers)).toBe('ok')
  })

  it('reopens for another full period when the probe fails, without a switch or an event', async () => {
    const { breaker, events, advance } = breakerOn({ openMs: 1_000 })
    breaker.trip(new Error('down'))
    for (let period = 1; period <= 3; period++) {
      advance(1_000)
      expect(breaker.claimProbe()).toBe(true)
      await expect(breaker.probe(refused)).rejects.toThrow('ECONNREFUSED')
      breaker.probeFailed()
      expect(breaker.snapshot()).toMatchObject({ state: 'open', switches: 1, memorySince: 1_000_000 })
      advance(999)
      expect(breaker.claimProbe()).toBe(false)
      advance(-999)
    }
    expect(events).toEqual(['open: down'])
  })

  it('never switches more than twice per period: a Redis that flaps is held on memory for openMs each time', async () => {
    const { breaker, advance } = breakerOn({ failureThreshold: 1, openMs: 1_000 })
    const switchesAt: number[] = []
    let elapsed = 0
    // Redis answers 4 ticks of every 7 and refuses the other 3, for 10 s; a call comes every 10 ms tick.
    for (let tick = 0; tick < 1_000; tick++) {
      const up = tick % 7 < 4
      const before = breaker.snapshot().switches
      if (breaker.claimProbe()) {
        try {
          await breaker.probe(up ? answers : refused)
          breaker.probeSucceeded()
        } catch {
          breaker.probeFailed()
        }
      } else {
        await attempt(breaker, up ? answers : refused)
      }
      if (breaker.snapshot().switches !== before) switchesAt.push(elapsed)
      advance(10)
      elapsed += 10
    }
    expect(switchesAt.length).toBeGreaterThan(2)
    // Every return to Redis comes at least openMs after the switch to memory before it.
    for (let i = 1; i < switchesAt.length; i += 2) {
      expect(switchesAt[i]! - switchesAt[i - 1]!).toBeGreaterThanOrEqual(1_000)
    }
    expect(switchesAt.length).toBeLessThanOrEqual(2 * Math.ceil(10_000 / 1_000))
  })

  it('opens at once on a timed-out call, whatever the threshold', async () => {
    const { breaker, events } = breakerOn({ failureThreshold: 5, timeoutMs: 20 })
    const stalled = () => new Promise<never>(() => {})
    const started = performance.now()
    await expect(breaker.call(stalled)).rejects.toBeInstanceOf(RedisTimeoutError)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(breaker.state).toBe('open')
    expect(events).toEqual(['open: Command timed out'])
  })

  it('ignores results of calls that started before the last transition', async () => {
    const { breaker, events, advance } = breakerOn({ failureThreshold: 1, openMs: 1_000 })
    let fail: (error: Error) => void = () => {}
    const late = new Promise<never>((_, reject) => {
      fail = reject
    })
    const straggler = attempt(breaker, () => late)
    breaker.trip(new Error('down'))
    advance(1_000)
    expect(breaker.claimProbe()).toBe(true)
    await breaker.probe(answers)
    breaker.probeSucceeded()
    // The call from before the outage fails now: the closed breaker must not reopen for it.
    fail(new Error('ECONNRESET'))
    expect(await straggler).toBe('failed')
    expect(breaker.state).toBe('closed')
    expect(events).toEqual(['open: down', 'close: 1000 ms on memory'])
  })

  it('refuses nonsense options', () => {
    expect(() => new RedisBreaker({ failureThreshold: 0 })).toThrow(RangeError)
    expect(() => new RedisBreaker({ failureThreshold: 1.5 })).toThrow(RangeError)
    expect(() => new RedisBreaker({ openMs: 0 })).toThrow(RangeError)
    expect(() => new RedisBreaker({ timeoutMs: Number.NaN })).toThrow(RangeError)
  })
})

describe('withTimeout', () => {
  it('lets an answer that arrived during an event loop stall win over its own timeout', async () => {
    // A read done by the thread pool while this thread is blocked: its completion waits for the poll phase,
    // as a Redis reply sitting in the socket does. Blocked in a check-phase callback (as in an I/O one, where
    // requests are handled), the loop reaches the due timer before that poll phase.
    const fd = openSync(import.meta.filename, 'r')
    try {
      const { answer } = await new Promise<{ answer: Promise<number> }>((started) =>
        setImmediate(() => {
          const racing = withTimeout(
            () =>
              new Promise<number>((resolve, reject) =>
                read(fd, Buffer.alloc(16), 0, 16, 0, (error, bytes) =>
                  error ? reject(error) : resolve(bytes),
                ),
              ),
            20,
          )
          racing.catch(() => {}) // awaited below
          const until = performance.now() + 150
          while (performance.now() < until) {
            // a stall longer than the timeout
          }
          started({ answer: racing })
        }),
      )
      await expect(answer).resolves.toBe(16)
    } finally {
      closeSync(fd)
    }
  })

  it("passes the work's value and error through, and rejects a stalled call after the timeout", async () => {
    await expect(withTimeout(answers, 1_000)).resolves.toBe('OK')
    await expect(withTimeout(refused, 1_000)).rejects.toThrow('ECONNREFUSED')
    await expect(
      withTimeout(() => {
        throw new Error('sync')
      }, 1_000),
    ).rejects.toThrow('sync')
    const started = performance.now()
    const error = await withTimeout(() => new Promise(() => {}), 30).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(RedisTimeoutError)
    expect((error as RedisTimeoutError).timeoutMs).toBe(30)
    expect(performance.now() - started).toBeGreaterThanOrEqual(25)
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})
