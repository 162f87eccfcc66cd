/**
 * Libraries never print: everything goes through an injectable logger, message first, structured fields
 * second (console's order; pino-style loggers, which take fields first, are wrapped by the adapters).
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

const noop = () => {}

/** The default: silent. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
