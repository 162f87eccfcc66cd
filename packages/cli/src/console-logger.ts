import type { DownloadProgress } from '@rerank-kit/core'
import type { Logger } from '@rerank-kit/protocol'
import type { OutputStream } from './cli-io'

const order = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof order)[number]

export type LogFormat = 'pretty' | 'json' | 'auto'

/**
 * One line per event. `pretty`: time, level, message, fields as JSON. `json`: one JSON object per line
 * (`time`, `level`, `msg`, then the fields), for a log shipper. `auto`: pretty on a terminal, JSON lines
 * otherwise (a container's or a service manager's log). (The CLI prints; the libraries only log.)
 */
export function consoleLogger(level: LogLevel, out: OutputStream, chosen: LogFormat = 'pretty'): Logger {
  const format = chosen === 'auto' ? (out.isTTY ? 'pretty' : 'json') : chosen
  const threshold = order.indexOf(level)
  const at = (name: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (order.indexOf(name) < threshold) return
    const time = new Date().toISOString()
    if (format === 'json') {
      // The fixed keys last, so a field named like one of them cannot replace it.
      out.write(`${JSON.stringify({ ...fields, time, level: name, msg: message })}\n`)
      return
    }
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''
    out.write(`${time} ${name.toUpperCase().padEnd(5)} ${message}${extra}\n`)
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/**
 * A download progress bar per file: redrawn in place on a terminal, otherwise one plain line per 10% (a log
 * file or CI output must not fill up with carriage returns). Files already cached print nothing.
 */
export function progressBar(out: OutputStream) {
  const shown = new Map<string, number>()
  return (model: string, event: DownloadProgress) => {
    if (event.status === 'cached') return
    const percent = event.total ? Math.floor((event.loaded / event.total) * 100) : 0
    const key = `${model}/${event.file}`
    if (event.status === 'progress' && !out.isTTY && percent - (shown.get(key) ?? -10) < 10) return
    shown.set(key, percent)
    const filled = Math.round(percent / 5)
    const size = event.total === undefined ? '' : ` (${formatBytes(event.total)})`
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${String(percent).padStart(3)}% ${event.file}${size}`
    out.write(out.isTTY ? `\r${bar}${event.status === 'done' ? '\n' : ''}` : `${bar}\n`)
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}
