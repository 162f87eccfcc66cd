import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc's CPU times. */
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100
  } catch {
    return 100
  }
})()

/**
 * CPU time (user + system, all threads) a process has used, in microseconds; undefined without /proc (macOS).
 * A server's CPU per request is its cost whether or not the load generator managed to saturate it.
 */
export function cpuMicros(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks
  } catch {
    return undefined
  }
}
