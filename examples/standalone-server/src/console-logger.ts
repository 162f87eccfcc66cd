import type { Logger } from '@rerank-kit/protocol'

const order = ['debug', 'info', 'warn', 'error'] as const

/** One line per event on stderr: time, level, message, fields as JSON. (Examples may print; libraries never do.) */
export function consoleLogger(level: (typeof order)[number]): Logger {
  const threshold = order.indexOf(level)
  const at = (name: (typeof order)[number]) => (message: string, fields?: Record<string, unknown>) => {
    if (order.indexOf(name) < threshold) return
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''
    process.stderr.write(`${new Date().toISOString()} ${name.toUpperCase().padEnd(5)} ${message}${extra}\n`)
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** A download progress bar on stderr, redrawn in place on a terminal and every 10% otherwise. */
export function progressBar() {
  const shown = new Map<string, number>()
  return (model: string, event: { file: string; status: string; loaded: number; total?: number }) => {
    if (event.status === 'cached') return
    const percent = event.total ? Math.floor((event.loaded / event.total) * 100) : 0
    const key = `${model}/${event.file}`
    if (event.status === 'progress' && !process.stderr.isTTY && percent - (shown.get(key) ?? -10) < 10) return
    shown.set(key, percent)
    const filled = Math.round(percent / 5)
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${String(percent).padStart(3)}% ${event.file}`
    process.stderr.write(process.stderr.isTTY ? `\r${bar}${event.status === 'done' ? '\n' : ''}` : `${bar}\n`)
  }
}
