// "What got slower?": latency percentiles per hour or day for each route (request lines) and each
// reply kind (chat turns), and the series whose p95 rose against the period before.
import Type, { type Static } from 'typebox'
import { LogHistogram } from '../health/sliding-window.js'
import { emptyStats, previousPeriod, scanLogs, type Period, type ScanStats } from './log-scan.js'

export type Bucket = 'hour' | 'day'

export const LatencyRowSchema = Type.Object({
  series: Type.String({
    description: '"METHOD /route" for requests ("METHOD /route refused": its 429s and 503s), "turn <kind>" for turns'
  }),
  bucket: Type.String({ description: 'The hour or day, or "all" for the whole period' }),
  count: Type.Integer(),
  p50_ms: Type.Number(),
  p95_ms: Type.Number(),
  p99_ms: Type.Number(),
  server_errors: Type.Integer({ description: 'Answered with a 5xx (request series only)' })
})
export type LatencyRow = Static<typeof LatencyRowSchema>

export const RegressionSchema = Type.Object({
  series: Type.String(),
  p95_ms: Type.Number(),
  previous_p95_ms: Type.Number(),
  ratio: Type.Number(),
  count: Type.Integer()
})
export type Regression = Static<typeof RegressionSchema>

export interface PerfReport {
  period: Period
  bucket: Bucket
  rows: LatencyRow[]
  /** Series over the whole period, for the regressions' context. */
  totals: LatencyRow[]
  /** The same over the period before, read in the same pass. */
  previous_totals: LatencyRow[]
  regressions: Regression[]
  stats: ScanStats
}

// A p95 this much higher than before, over at least this many samples in each period, is flagged.
export const REGRESSION_RATIO = 1.2
export const REGRESSION_MIN_SAMPLES = 20
const PERF_LINE = /"msg":"(request completed|chat\.reply_sent)"/
// A request refused before it was served (429 past a client's limits, 503 past capacity or while
// the database is down) is answered in a millisecond: among the served, a load test's thousands
// of refusals put the chat route's p50 at 0.1 ms. They are a series of their own, "… refused".
const REFUSED = new Set([429, 503])

const ms = (seconds: number | undefined): number => Math.round((seconds ?? 0) * 10_000) / 10
// A series' latencies, and how many of its requests failed with a 5xx.
class Series extends LogHistogram { serverErrors = 0 }

const row = (series: string, bucket: string, histogram: Series): LatencyRow =>
  ({
    series,
    bucket,
    count: histogram.count,
    p50_ms: ms(histogram.quantile(0.5)),
    p95_ms: ms(histogram.quantile(0.95)),
    p99_ms: ms(histogram.quantile(0.99)),
    server_errors: histogram.serverErrors
  })

/** Hourly for two days or less, else daily. */
export const defaultBucket = (period: Period): Bucket =>
  period.to.getTime() - period.from.getTime() <= 2 * 86_400_000 ? 'hour' : 'day'

export async function analyzePerf (options: {
  dir: string
  period: Period
  bucket?: Bucket
  onProgress?: (done: number, total: number) => void
}): Promise<PerfReport> {
  const { period } = options
  const bucket = options.bucket ?? defaultBucket(period)
  const previous = previousPeriod(period)
  const from = period.from.toISOString()
  const stats = emptyStats()
  const byBucket = new Map<string, Map<string, Series>>()
  const current = new Map<string, Series>()
  const before = new Map<string, Series>()
  const histogram = (map: Map<string, Series>, key: string): Series => {
    let found = map.get(key)
    if (found === undefined) map.set(key, found = new Series())
    return found
  }

  const entries = scanLogs({
    dir: options.dir,
    families: ['chatbot'],
    period: { from: previous.from, to: period.to },
    wanted: line => PERF_LINE.test(line),
    onProgress: options.onProgress
  }, stats)
  for await (const entry of entries) {
    let series: string
    let duration: unknown
    if (entry.msg === 'request completed') {
      // Probes are many and fast: they would hide the routes people wait on.
      if (typeof entry.route !== 'string' || entry.level === 'debug') continue
      const refused = typeof entry.status === 'number' && REFUSED.has(entry.status)
      series = `${String(entry.method ?? '')} ${entry.route}${refused ? ' refused' : ''}`.trim()
      duration = entry.duration_ms
    } else {
      series = `turn ${String(entry.kind ?? 'unknown')}`
      duration = entry.latency_ms
    }
    if (typeof duration !== 'number') continue
    const seconds = duration / 1000
    if (entry.time < from) {
      histogram(before, series).record(seconds)
      continue
    }
    const failed = typeof entry.status === 'number' && entry.status >= 500
    const slot = bucket === 'hour' ? `${entry.time.slice(0, 13)}:00` : entry.time.slice(0, 10)
    let slotSeries = byBucket.get(slot)
    if (slotSeries === undefined) byBucket.set(slot, slotSeries = new Map())
    for (const values of [histogram(current, series), histogram(slotSeries, series)]) {
      values.record(seconds)
      if (failed) values.serverErrors++
    }
  }

  const rows: LatencyRow[] = []
  for (const slot of [...byBucket.keys()].sort()) {
    for (const [series, values] of [...byBucket.get(slot)!].sort((a, b) => a[0].localeCompare(b[0]))) {
      rows.push(row(series, slot, values))
    }
  }
  const totals = [...current]
    .sort((a, b) => b[1].count - a[1].count)
    .map(([series, values]) => row(series, 'all', values))
  const previousTotals = [...before]
    .sort((a, b) => b[1].count - a[1].count)
    .map(([series, values]) => row(series, 'all', values))
  const regressions = findRegressions(totals, new Map(previousTotals.map(total => [total.series, total])))
  return { period, bucket, rows, totals, previous_totals: previousTotals, regressions, stats }
}

/** The series whose p95 rose REGRESSION_RATIO or more, with enough samples in both periods; worst first. */
export function findRegressions (totals: LatencyRow[], previous: Map<string, LatencyRow>): Regression[] {
  const regressions: Regression[] = []
  for (const total of totals) {
    const earlier = previous.get(total.series)
    if (
      earlier === undefined || earlier.count < REGRESSION_MIN_SAMPLES ||
      total.count < REGRESSION_MIN_SAMPLES || earlier.p95_ms <= 0
    ) continue
    const ratio = total.p95_ms / earlier.p95_ms
    if (ratio >= REGRESSION_RATIO) {
      regressions.push({
        series: total.series,
        p95_ms: total.p95_ms,
        previous_p95_ms: earlier.p95_ms,
        ratio: Math.round(ratio * 100) / 100,
        count: total.count
      })
    }
  }
  return regressions.sort((a, b) => b.ratio - a.ratio)
}
