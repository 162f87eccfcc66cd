import { describe, expect, it } from 'vitest'
import { niceTicks, renderLineChart } from '../packages/core/bench/line-chart'

// The renderer of `pnpm bench:core:sweep`'s chart (docs/images/engine-throughput.svg): the benchmark itself is
// run by hand, its SVG is checked here on made-up figures.

interface Element {
  name: string
  attributes: Record<string, string>
  text: string
  children: Element[]
}

/** A strict little XML reader, enough for what the renderer writes: it throws on anything not well-formed. */
function parseXml(xml: string): Element {
  const root: Element = { name: '#document', attributes: {}, text: '', children: [] }
  const stack = [root]
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g
  for (const match of xml.matchAll(token)) {
    const [, closing, name, attributeText, selfClosing, text, stray] = match
    if (stray) throw new Error(`stray "<" at ${match.index}`)
    const parent = stack.at(-1)!
    if (text !== undefined) {
      if (/&(?!(?:amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`unescaped & in "${text}"`)
      if (parent === root && text.trim() !== '') throw new Error('text outside the root element')
      parent.text += text
      continue
    }
    if (closing) {
      if (parent.name !== name) throw new Error(`</${name}> closes <${parent.name}>`)
      stack.pop()
      continue
    }
    const attributes: Record<string, string> = {}
    for (const [, key, value] of attributeText!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (key! in attributes) throw new Error(`duplicate attribute ${key}`)
      if (/&(?!(?:amp|lt|gt|quot|apos);)/.test(value!)) throw new Error(`unescaped & in ${key}="${value}"`)
      attributes[key!] = value!
    }
    const element: Element = { name: name!, attributes, text: '', children: [] }
    parent.children.push(element)
    if (!selfClosing) stack.push(element)
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.name}> is never closed`)
  if (root.children.length !== 1) throw new Error('more than one root element')
  return root.children[0]!
}

const all = (element: Element, predicate: (element: Element) => boolean): Element[] => [
  ...(predicate(element) ? [element] : []),
  ...element.children.flatMap((child) => all(child, predicate)),
]
const withClass = (element: Element, name: string) =>
  all(element, (one) => (one.attributes.class ?? '').split(' ').includes(name))
const decodeEntities = (text: string) =>
  text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&')

const levels = [1, 2, 4, 8, 16, 32]
const pairs = [10.5, 14.2, 17.8, 18.9, 19.1, 19]

const svg = renderLineChart({
  title: 'Local engine throughput against concurrency',
  subtitle: 'MiniLM-L6, 16 docs per request; AMD EPYC <test> & co x2; 2026-11-28',
  xLabel: 'concurrent requests (closed loop)',
  yLabel: 'pairs / s',
  rightAxis: { label: 'requests / s', divisor: 16 },
  xScale: 'log2',
  series: [{ name: 'pairs/s', points: levels.map((x, i) => ({ x, y: pairs[i]! })) }],
})
const doc = parseXml(svg)

describe('renderLineChart', () => {
  it('writes one well-formed standalone SVG document', () => {
    expect(doc.name).toBe('svg')
    expect(doc.attributes.xmlns).toBe('http://www.w3.org/2000/svg')
    expect(doc.attributes.viewBox).toBe(`0 0 ${doc.attributes.width} ${doc.attributes.height}`)
    expect(svg).not.toMatch(/<script|href=/)
    expect(svg.endsWith('</svg>\n')).toBe(true)
  })

  it('has the title, the machine and date line (escaped), and the axis labels', () => {
    expect(decodeEntities(withClass(doc, 'title')[0]!.text)).toBe(
      'Local engine throughput against concurrency',
    )
    expect(decodeEntities(withClass(doc, 'subtitle')[0]!.text)).toBe(
      'MiniLM-L6, 16 docs per request; AMD EPYC <test> & co x2; 2026-11-28',
    )
    expect(withClass(doc, 'axis-label').map((label) => label.text)).toEqual([
      'pairs / s',
      'requests / s',
      'concurrent requests (closed loop)',
    ])
  })

  it('draws one point per level, left to right, evenly spaced on the log2 axis, higher for more pairs/s', () => {
    const points = withClass(doc, 'point')
    expect(points).toHaveLength(levels.length)
    const xs = points.map((point) => Number(point.attributes.cx))
    const ys = points.map((point) => Number(point.attributes.cy))
    const gaps = xs.slice(1).map((x, i) => x - xs[i]!)
    for (const gap of gaps) expect(gap).toBeCloseTo(gaps[0]!, 0)
    expect(gaps[0]).toBeGreaterThan(0)
    // SVG y grows downwards: a higher figure is a smaller cy.
    expect(ys[0]).toBeGreaterThan(ys[2]!)
    expect(points.map((point) => point.children[0]!.text)).toContain('pairs/s at 8: 18.9')
    const line = all(doc, (element) => element.name === 'polyline')
    expect(line).toHaveLength(1)
    expect(line[0]!.attributes.points!.split(' ')).toHaveLength(levels.length)
  })

  it('labels every level on the x axis, and the y axis from 0 past the highest figure, in both units', () => {
    const xTicks = withClass(all(doc, (one) => one.attributes.class === 'x-axis')[0]!, 'tick')
    expect(xTicks.map((tick) => tick.text)).toEqual(levels.map(String))
    const yAxis = all(doc, (one) => one.attributes.class === 'y-axis')[0]!
    const left = withClass(yAxis, 'tick').filter((tick) => !tick.attributes.class!.includes('right'))
    const right = withClass(yAxis, 'right').filter((tick) => tick.attributes.class!.includes('tick'))
    const values = left.map((tick) => Number(tick.text.replaceAll(',', '')))
    expect(values[0]).toBe(0)
    expect(values.at(-1)).toBeGreaterThanOrEqual(19.1)
    expect(right.map((tick) => Number(tick.text))).toEqual(
      values.map((value) => Number((value / 16).toFixed(2))),
    )
  })

  it('draws two series with a legend entry each, and refuses charts it cannot draw', () => {
    const two = parseXml(
      renderLineChart({
        title: 't',
        xLabel: 'x',
        yLabel: 'y',
        series: [
          {
            name: 'before',
            points: [
              { x: 1, y: 1 },
              { x: 2, y: 3 },
              { x: 3, y: 2 },
            ],
          },
          {
            name: 'after',
            points: [
              { x: 1, y: 2 },
              { x: 2, y: 4 },
              { x: 3, y: 5 },
            ],
          },
        ],
      }),
    )
    expect(withClass(two, 'series').map((series) => series.attributes['data-name'])).toEqual([
      'before',
      'after',
    ])
    expect(withClass(two, 'point')).toHaveLength(6)
    expect(
      withClass(two, 'legend')[0]!
        .children.filter((child) => child.name === 'text')
        .map((t) => t.text),
    ).toEqual(['before', 'after'])
    expect(withClass(two, 'subtitle')).toHaveLength(0)

    const base = { title: 't', xLabel: 'x', yLabel: 'y' }
    expect(() => renderLineChart({ ...base, series: [] })).toThrow(/one or two/)
    expect(() => renderLineChart({ ...base, series: [{ name: 'a', points: [] }] })).toThrow(/no points/)
    expect(() =>
      renderLineChart({ ...base, xScale: 'log2', series: [{ name: 'a', points: [{ x: 0, y: 1 }] }] }),
    ).toThrow(/x > 0/)
    expect(() =>
      renderLineChart({ ...base, series: [{ name: 'a', points: [{ x: 1, y: Number.NaN }] }] }),
    ).toThrow(/finite/)
  })
})

describe('niceTicks', () => {
  it('steps of 1, 2 or 5 times a power of ten, covering the range', () => {
    expect(niceTicks(0, 19)).toEqual([0, 5, 10, 15, 20])
    expect(niceTicks(0, 16)).toEqual([0, 5, 10, 15, 20])
    expect(niceTicks(0, 1234)).toEqual([0, 500, 1000, 1500])
    expect(niceTicks(0, 0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
    expect(niceTicks(0, 0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
  })
})
