import type { Logger } from './logger'

type Level = keyof Logger

interface Repeats {
  count: number
  timer: ReturnType<typeof setTimeout>
  level: Level
  message: string
  fields: Record<string, unknown>
  logger: Logger
}

/**
 * Repeated identical log lines, rate-limited: the first one is logged at once, the repeats within the next
 * `intervalMs` are counted and logged as one line (`repeated: n`) when the interval ends. A dead backend then
 * costs a line every interval instead of a line per failed attempt (which, at a few thousand requests a
 * second, floods the log and costs the CPU the log is written with).
 *
 * Lines are identical when the message and the fields named in `identity` agree (all fields by default); the
 * others (a timestamp, a count) may differ, and the repeat line carries the last occurrence's.
 */
export class LogThrottle {
  private readonly repeats = new Map<string, Repeats>()
  /** Keys logged within the current interval, with no repeat yet. */
  private readonly recent = new Map<string, ReturnType<typeof setTimeout>>()

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  /**
   * `logger`: where this line goes when it is logged (a per-request logger, e.g. Fastify's request.log); the
   * throttle's own otherwise. A repeat line goes to the last occurrence's.
   */
  log(
    level: Level,
    message: string,
    fields: Record<string, unknown>,
    identity?: readonly string[],
    logger: Logger = this.logger,
  ): void {
    const key = keyOf(message, fields, identity)
    const repeats = this.repeats.get(key)
    if (repeats) {
      repeats.count++
      repeats.fields = fields
      repeats.logger = logger
      return
    }
    const recent = this.recent.get(key)
    if (recent === undefined) {
      logger[level](message, fields)
      const timer = setTimeout(() => this.recent.delete(key), this.intervalMs)
      timer.unref?.()
      this.recent.set(key, timer)
      return
    }
    // The first repeat within the interval: count from here, report when the interval (restarted) ends.
    clearTimeout(recent)
    this.recent.delete(key)
    const timer = setTimeout(() => this.report(key), this.intervalMs)
    timer.unref?.()
    this.repeats.set(key, { count: 1, timer, level, message, fields, logger })
  }

  /** Logs the pending counts now and forgets every key (on close: no timer outlives its owner). */
  flush(): void {
    for (const key of [...this.repeats.keys()]) this.report(key, false)
    for (const timer of this.recent.values()) clearTimeout(timer)
    this.recent.clear()
  }

  private report(key: string, keepCounting = true) {
    const repeats = this.repeats.get(key)
    if (!repeats) return
    clearTimeout(repeats.timer)
    this.repeats.delete(key)
    repeats.logger[repeats.level](repeats.message, {
      ...repeats.fields,
      repeated: repeats.count,
      withinMs: this.intervalMs,
    })
    if (keepCounting) {
      // Repeats arriving right after the report are counted for the next one, not logged one by one.
      const timer = setTimeout(() => this.recent.delete(key), this.intervalMs)
      timer.unref?.()
      this.recent.set(key, timer)
    }
  }
}

function keyOf(message: string, fields: Record<string, unknown>, identity: readonly string[] | undefined) {
  const names = identity ?? Object.keys(fields).sort()
  return JSON.stringify([message, ...names.map((name) => [name, fields[name]])])
}
