import { afterEach, describe, expect, it, vi } from 'vitest'
import { LogThrottle } from './log-throttle'
import type { Logger } from './logger'

function recordingLogger() {
  const lines: { level: keyof Logger; message: string; fields?: Record<string, unknown> }[] = []
  const record = (level: keyof Logger) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, ...(fields ? { fields } : {}) })
  }
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  }
  return { logger, lines }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('LogThrottle', () => {
  it('logs the first line, then one line with the count per interval, then forgets a quiet key', () => {
    vi.useFakeTimers()
    const { logger, lines } = recordingLogger()
    const throttle = new LogThrottle(logger, 1_000)
    const dead = (until: string) =>
      throttle.log('warn', 'deployment cooling down', { deployment: 'a', until }, ['deployment'])
    dead('t0')
    for (let i = 1; i <= 9; i++) dead(`t${i}`)
    throttle.log('warn', 'deployment cooling down', { deployment: 'b', until: 'x' }, ['deployment'])
    expect(lines).toEqual([
      { level: 'warn', message: 'deployment cooling down', fields: { deployment: 'a', until: 't0' } },
      { level: 'warn', message: 'deployment cooling down', fields: { deployment: 'b', until: 'x' } },
    ])
    vi.advanceTimersByTime(1_000)
    // The repeats of a: one line, with the last occurrence's fields.
    expect(lines.slice(2)).toEqual([
      {
        level: 'warn',
        message: 'deployment cooling down',
        fields: { deployment: 'a', until: 't9', repeated: 9, withinMs: 1_000 },
      },
    ])
    dead('t10')
    vi.advanceTimersByTime(1_000)
    expect(lines.at(-1)?.fields).toEqual({ deployment: 'a', until: 't10', repeated: 1, withinMs: 1_000 })
    // A whole quiet interval later the key is forgotten: the next line is logged at once.
    vi.advanceTimersByTime(2_000)
    dead('t11')
    expect(lines.at(-1)?.fields).toEqual({ deployment: 'a', until: 't11' })
    expect(lines).toHaveLength(5)
  })

  it('flush logs the pending counts at once', () => {
    const { logger, lines } = recordingLogger()
    const throttle = new LogThrottle(logger, 60_000)
    for (let i = 0; i < 3; i++) throttle.log('error', 'boom', { code: 'x' })
    throttle.flush()
    expect(lines.map((line) => line.fields)).toEqual([
      { code: 'x' },
      { code: 'x', repeated: 2, withinMs: 60_000 },
    ])
  })
})
