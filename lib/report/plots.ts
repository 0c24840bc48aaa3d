// SVG plots through vega-lite (compiled to a vega spec and rendered headless). vega and
// vega-lite are ESM-only and heavy, so they are imported on first use.

export interface ScatterPlot {
  title: string
  xTitle: string
  yTitle: string
  points: ReadonlyArray<{ x: number, y: number }>
  /** Optional subtitle line (e.g. "SYNTHETIC benchmark"). */
  subtitle?: string
}

export interface LinePlot {
  title: string
  xTitle: string
  yTitle: string
  /** One line per series; `sd` draws an error band of ± sd. */
  points: ReadonlyArray<{ series: string, x: number, y: number, sd?: number }>
  logX?: boolean
  /** false: the y axis spans the data instead of starting at 0 (default true, vega-lite's). */
  zeroY?: boolean
  subtitle?: string
}

async function render (spec: Record<string, unknown>): Promise<string> {
  // Indirect import keeps TypeScript (CommonJS output) from turning it into require().
  const importEsm = new Function('m', 'return import(m)') as (m: string) => Promise<any>
  const [vega, vegaLite] = await Promise.all([importEsm('vega'), importEsm('vega-lite')])
  const compiled = vegaLite.compile(spec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

function header (title: string, subtitle: string | undefined): Record<string, unknown> {
  return subtitle === undefined ? { text: title } : { text: title, subtitle }
}

/** Scatter plot (e.g. predicted vs true rank, ReNAS Fig. 2). */
export async function scatterSvg (plot: ScatterPlot): Promise<string> {
  return await render({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: header(plot.title, plot.subtitle),
    width: 360,
    height: 360,
    data: { values: plot.points.map(p => ({ x: p.x, y: p.y })) },
    mark: { type: 'circle', size: 8, opacity: 0.5 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: plot.xTitle },
      y: { field: 'y', type: 'quantitative', title: plot.yTitle }
    }
  })
}

/** Line plot with optional ± sd bands (e.g. Kendall tau vs training fraction). */
export async function lineSvg (plot: LinePlot): Promise<string> {
  const yScale = plot.zeroY === false ? { scale: { zero: false } } : {}
  const values = plot.points.map(p => ({ series: p.series, x: p.x, y: p.y, lo: p.y - (p.sd ?? 0), hi: p.y + (p.sd ?? 0) }))
  const x = { field: 'x', type: 'quantitative', title: plot.xTitle, scale: plot.logX === true ? { type: 'log' } : {} }
  const color = { field: 'series', type: 'nominal', title: null }
  return await render({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: header(plot.title, plot.subtitle),
    width: 420,
    height: 300,
    data: { values },
    layer: [
      { mark: { type: 'area', opacity: 0.15 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: plot.yTitle, ...yScale }, y2: { field: 'hi' }, color } },
      { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'y', type: 'quantitative', title: plot.yTitle, ...yScale }, color } }
    ]
  })
}

export interface BarPlot {
  title: string
  xTitle: string
  yTitle: string
  /** One bar per (group, series); `sd` draws an error bar of ± sd. */
  bars: ReadonlyArray<{ group: string, series: string, y: number, sd?: number }>
  subtitle?: string
}

/** Grouped bar chart with optional ± sd error bars (e.g. importance per hyper-parameter). */
export async function barSvg (plot: BarPlot): Promise<string> {
  const values = plot.bars.map(b => ({ group: b.group, series: b.series, y: b.y, lo: b.y - (b.sd ?? 0), hi: b.y + (b.sd ?? 0) }))
  const x = { field: 'group', type: 'nominal', title: plot.xTitle, sort: null }
  const xOffset = { field: 'series' }
  const color = { field: 'series', type: 'nominal', title: null }
  return await render({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: header(plot.title, plot.subtitle),
    width: 420,
    height: 260,
    data: { values },
    layer: [
      { mark: 'bar', encoding: { x, xOffset, y: { field: 'y', type: 'quantitative', title: plot.yTitle }, color } },
      { mark: 'rule', encoding: { x, xOffset, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } }
    ]
  })
}

export interface HistogramPlot {
  title: string
  xTitle: string
  yTitle: string
  /** One step line per series: counts over bins with edges (bins + 1, ascending); `normalize` divides by the series' total. */
  series: ReadonlyArray<{ series: string, edges: readonly number[], counts: readonly number[], total?: number }>
  normalize?: boolean
  subtitle?: string
}

/** Histograms of several series over shared or different bins, as step lines (e.g. q(J) of Mauch et al. Fig 2). */
export async function histogramSvg (plot: HistogramPlot): Promise<string> {
  const values = plot.series.flatMap(s => {
    const total = plot.normalize === true ? (s.total ?? s.counts.reduce((a, b) => a + b, 0)) : 1
    const ys = s.counts.map(c => total > 0 ? c / total : 0)
    // Step after each left edge; the last bin closes at the last edge.
    return [...ys.map((y, k) => ({ series: s.series, x: s.edges[k], y })), { series: s.series, x: s.edges[s.edges.length - 1], y: ys[ys.length - 1] ?? 0 }]
  })
  return await render({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: header(plot.title, plot.subtitle),
    width: 420,
    height: 300,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: plot.xTitle },
      y: { field: 'y', type: 'quantitative', title: plot.yTitle },
      color: { field: 'series', type: 'nominal', title: null }
    }
  })
}
