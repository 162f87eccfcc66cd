import { describe, expect, it } from 'vitest'
import { consoleLogger, type LogFormat } from './console-logger'

// The standalone server's log lines: pretty by default, JSON lines on request, and `auto` choosing by whether
// stderr is a terminal.

function capture(format: LogFormat | undefined, isTTY: boolean) {
  const lines: string[] = []
  const out = { isTTY, write: (text: string) => lines.push(text) }
  const logger = format === undefined ? consoleLogger('info', out) : consoleLogger('info', out, format)
  logger.info('request', { requestId: 'r-1', route: '/rerank', status: 200, documents: 3, tokens: 42 })
  logger.debug('below the level')
  return lines
}

const pretty =
  /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}request \{"requestId":"r-1","route":"\/rerank","status":200,"documents":3,"tokens":42\}\n$/

describe('consoleLogger', () => {
  it('is pretty by default, on a terminal or not', () => {
    for (const isTTY of [true, false]) {
      const lines = capture(undefined, isTTY)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(pretty)
    }
  })

  it('json: one JSON object per line, the fields first and time, level and msg last', () => {
    const [line, ...rest] = capture('json', true)
    expect(rest).toEqual([])
    expect(line!.endsWith('}\n')).toBe(true)
    expect(JSON.parse(line!)).toEqual({
      requestId: 'r-1',
      route: '/rerank',
      status: 200,
      documents: 3,
      tokens: 42,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'info',
      msg: 'request',
    })
  })

  it('auto: pretty on a terminal, JSON lines otherwise', () => {
    expect(capture('auto', true)[0]).toMatch(pretty)
    expect(JSON.parse(capture('auto', false)[0]!)).toMatchObject({
      level: 'info',
      msg: 'request',
      tokens: 42,
    })
  })
})
