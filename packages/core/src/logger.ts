/**
 * Libraries never print: everything goes through an injectable logger. Its shape fits pino, Fastify's
 * `request.log` and console-like objects (fields first is pino's order; we pass the message first and the
 * fields second, which pino and console both accept).
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
