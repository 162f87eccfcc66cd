// A small dependency-free SVG line chart for benchmark figures: axes, ticks, labels, one or two series on one y
// axis (optionally read in other units on a right axis), a legend, and a title. Pure: the same input gives the
// same bytes, so a re-run that measured the same figures leaves the committed file unchanged.

export interface ChartPoint {
  x: number
  y: number
}

export interface ChartSeries {
  name: string
  points: readonly ChartPoint[]
}

export interface LineChartOptions {
  title: string
  /** A second, smaller title line (e.g. the machine and the date). */
  subtitle?: string
  xLabel: string
  yLabel: string
  /**
   * The y axis again on the right, in other units: its tick labels are the left ones divided by `divisor`
   * (pairs/s on the left, requests/s on the right for requests of `divisor` pairs).
   */
  rightAxis?: { label: string; divisor: number }
  series: readonly ChartSeries[]
  /** 'log2' spaces powers of two evenly (concurrency 1, 2, 4, ...); its ticks are the measured x values. */
  xScale?: 'linear' | 'log2'
  width?: number
  height?: number
}

const colors = ['#1f77b4', '#d62728'] as const

/** Escapes text for an SVG text node or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')
}

/** Round tick values (1, 2 or 5 times a power of ten apart) from 0 or below `min` up to at least `max`. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new Error('niceTicks: bounds must be finite')
  if (max <= min) max = min + (min === 0 ? 1 : Math.abs(min))
  const rough = (max - min) / count
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = ([1, 2, 5, 10].find((factor) => factor * magnitude >= rough) ?? 10) * magnitude
  const start = Math.floor(min / step) * step
  const ticks: number[] = []
  for (let value = start; value < max + step / 2; value += step) ticks.push(Number(value.toPrecision(12)))
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)))
  return ticks
}

/** `1,234`, `12.5`, `0.25`: thousands grouped; 2 decimals at most, none from 100 on. */
export function formatTick(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) >= 100 ? 0 : 2 })
}

const fixed = (value: number) => Number(value.toFixed(1)).toString()

/** The chart as a standalone SVG document (no scripts, no external references). */
export function renderLineChart(options: LineChartOptions): string {
  const { title, subtitle, xLabel, yLabel, rightAxis, series } = options
  if (series.length === 0 || series.length > 2) throw new Error('renderLineChart: one or two series')
  if (series.some((one) => one.points.length === 0))
    throw new Error('renderLineChart: a series has no points')
  if (rightAxis && !(rightAxis.divisor > 0)) throw new Error('renderLineChart: rightAxis.divisor must be > 0')
  const xScale = options.xScale ?? 'linear'
  const allPoints = series.flatMap((one) => one.points)
  if (allPoints.some((point) => !Number.isFinite(point.x) || !Number.isFinite(point.y)))
    throw new Error('renderLineChart: every point must be finite')
  if (xScale === 'log2' && allPoints.some((point) => point.x <= 0))
    throw new Error('renderLineChart: a log2 x axis needs x > 0')

  const width = options.width ?? 720
  const height = options.height ?? 420
  const top = subtitle ? 64 : 48
  const left = 72
  const right = rightAxis ? 72 : 24
  const bottom = 64
  const plotWidth = width - left - right
  const plotHeight = height - top - bottom

  // x: the measured values as ticks on a log2 axis, round values on a linear one.
  const xs = [...new Set(allPoints.map((point) => point.x))].sort((a, b) => a - b)
  const xTransform = (x: number) => (xScale === 'log2' ? Math.log2(x) : x)
  const xTicks = xScale === 'log2' ? xs : niceTicks(Math.min(0, xs[0]!), xs.at(-1)!)
  const xMin = xTransform(xTicks[0]!)
  const xSpan = xTransform(xTicks.at(-1)!) - xMin || 1
  // A log2 axis has its first and last measured value on its ends: pad it so their points are off the frame.
  const xPad = xScale === 'log2' ? plotWidth * 0.04 : 0
  const px = (x: number) => left + xPad + ((xTransform(x) - xMin) / xSpan) * (plotWidth - 2 * xPad)

  // y: from 0 (or below, for negative values) to a round value a little above the highest point.
  const ys = allPoints.map((point) => point.y)
  const yTicks = niceTicks(Math.min(0, ...ys), Math.max(...ys) * 1.05)
  const yMin = yTicks[0]!
  const ySpan = yTicks.at(-1)! - yMin || 1
  const py = (y: number) => top + plotHeight - ((y - yMin) / ySpan) * plotHeight

  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="12" role="img" ` +
      `aria-label="${escapeXml(title)}">`,
  )
  out.push(`<title>${escapeXml(subtitle ? `${title} (${subtitle})` : title)}</title>`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(
    `<text class="title" x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(title)}</text>`,
  )
  if (subtitle)
    out.push(
      `<text class="subtitle" x="${width / 2}" y="44" text-anchor="middle" fill="#555555">${escapeXml(subtitle)}</text>`,
    )

  out.push('<g class="y-axis">')
  for (const tick of yTicks) {
    const y = fixed(py(tick))
    out.push(`<line x1="${left}" y1="${y}" x2="${left + plotWidth}" y2="${y}" stroke="#e5e5e5"/>`)
    out.push(
      `<text class="tick" x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(tick)}</text>`,
    )
    if (rightAxis)
      out.push(
        `<text class="tick right" x="${left + plotWidth + 8}" y="${y}" dominant-baseline="middle">${formatTick(tick / rightAxis.divisor)}</text>`,
      )
  }
  out.push(
    `<text class="axis-label" transform="translate(18 ${fixed(top + plotHeight / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  )
  if (rightAxis)
    out.push(
      `<text class="axis-label right" transform="translate(${width - 14} ${fixed(top + plotHeight / 2)}) rotate(90)" text-anchor="middle">${escapeXml(rightAxis.label)}</text>`,
    )
  out.push('</g>')

  out.push('<g class="x-axis">')
  for (const tick of xTicks) {
    const x = fixed(px(tick))
    out.push(
      `<line x1="${x}" y1="${top + plotHeight}" x2="${x}" y2="${top + plotHeight + 5}" stroke="#333333"/>`,
    )
    out.push(
      `<text class="tick" x="${x}" y="${top + plotHeight + 20}" text-anchor="middle">${formatTick(tick)}</text>`,
    )
  }
  out.push(
    `<text class="axis-label" x="${fixed(left + plotWidth / 2)}" y="${height - 16}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
  )
  out.push('</g>')
  out.push(
    `<rect class="frame" x="${left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333333"/>`,
  )

  for (const [index, one] of series.entries()) {
    const color = colors[index]!
    const points = [...one.points].sort((a, b) => a.x - b.x)
    const path = points.map((point) => `${fixed(px(point.x))},${fixed(py(point.y))}`).join(' ')
    const dash = index === 1 ? ' stroke-dasharray="6 4"' : ''
    out.push(`<g class="series" data-name="${escapeXml(one.name)}">`)
    out.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`)
    for (const point of points)
      out.push(
        `<circle class="point" cx="${fixed(px(point.x))}" cy="${fixed(py(point.y))}" r="3.5" fill="${color}">` +
          `<title>${escapeXml(`${one.name} at ${formatTick(point.x)}: ${formatTick(point.y)}`)}</title></circle>`,
      )
    out.push('</g>')
  }

  // Legend, top left inside the plot.
  out.push('<g class="legend">')
  for (const [index, one] of series.entries()) {
    const y = top + 14 + index * 18
    const dash = index === 1 ? ' stroke-dasharray="6 4"' : ''
    out.push(
      `<line x1="${left + 10}" y1="${y}" x2="${left + 34}" y2="${y}" stroke="${colors[index]}" stroke-width="2"${dash}/>`,
    )
    out.push(`<text x="${left + 40}" y="${y}" dominant-baseline="middle">${escapeXml(one.name)}</text>`)
  }
  out.push('</g>')
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
