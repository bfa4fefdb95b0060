// "What got slower?": latency percentiles per hour or day for each route (request lines) and each
// reply kind (chat turns), and the series whose p95 rose against the period before.
import Type, { type Static } from 'typebox'
import { LogHistogram } from '../health/sliding-window.js'
import { isUnserved, REFUSED_STATUSES, UNLOGGED_REQUESTS } from '../telemetry/unserved-sampler.js'
import { emptyStats, previousPeriod, scanLogs, type LogEntry, type Period, type ScanStats } from './log-scan.js'

export type Bucket = 'hour' | 'day'

export const LatencyRowSchema = Type.Object({
  series: Type.String({
    description: '"METHOD /route" for requests ("… refused": its 429s and 503s; "… rejected": its other 4xx), ' +
      '"turn <kind>" for turns'
  }),
  bucket: Type.String({ description: 'The hour or day, or "all" for the whole period' }),
  count: Type.Integer({ description: 'Requests or turns, with the unserved requests a flood\'s lines only count' }),
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
const PERF_LINE = new RegExp(`"msg":"(request completed|chat\\.reply_sent|${UNLOGGED_REQUESTS})"`)
// A request refused before it was served (429 past a client's limits, 503 past capacity or while
// the database is down) is answered in a millisecond: among the served, a load test's thousands
// of refusals put the chat route's p50 at 0.1 ms. They are a series of their own, "… refused",
// as are client errors, "… rejected" (a flood of invalid bodies counted 12,000 more chat requests);
// their latencies are those of the requests that had their own line (src/telemetry/unserved-sampler.ts).

const ms = (seconds: number | undefined): number => Math.round((seconds ?? 0) * 10_000) / 10
// A series' latencies, how many of its requests failed with a 5xx, and the requests only counted.
class Series extends LogHistogram {
  serverErrors = 0
  unlogged = 0
}

const row = (series: string, bucket: string, histogram: Series): LatencyRow =>
  ({
    series,
    bucket,
    count: histogram.count + histogram.unlogged,
    p50_ms: ms(histogram.quantile(0.5)),
    p95_ms: ms(histogram.quantile(0.95)),
    p99_ms: ms(histogram.quantile(0.99)),
    server_errors: histogram.serverErrors
  })

interface Sample {
  series: string
  /** The latency; none for the requests a second's line counts (src/telemetry/unserved-sampler.ts). */
  seconds: number | undefined
  count: number
  failed: boolean
}

/** What one line adds to its series, if anything. */
function perfSample (entry: LogEntry): Sample | undefined {
  if (entry.msg === 'chat.reply_sent') {
    const duration = entry.latency_ms
    const series = `turn ${String(entry.kind ?? 'unknown')}`
    return typeof duration === 'number' ? { series, seconds: duration / 1000, count: 1, failed: false } : undefined
  }
  // Probes are many and fast: they would hide the routes people wait on.
  if (typeof entry.route !== 'string' || entry.level === 'debug') return undefined
  const status = typeof entry.status === 'number' ? entry.status : 0
  const apart = REFUSED_STATUSES.has(status) ? ' refused' : isUnserved(status) ? ' rejected' : ''
  const series = `${String(entry.method ?? '')} ${entry.route}${apart}`.trim()
  const failed = status >= 500
  if (entry.msg === UNLOGGED_REQUESTS) {
    const count = entry.unlogged
    return typeof count === 'number' ? { series, seconds: undefined, count, failed } : undefined
  }
  const duration = entry.duration_ms
  return typeof duration === 'number' ? { series, seconds: duration / 1000, count: 1, failed } : undefined
}

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
    const sample = perfSample(entry)
    if (sample === undefined) continue
    const add = (values: Series): void => {
      if (sample.seconds === undefined) values.unlogged += sample.count
      else values.record(sample.seconds)
      if (sample.failed) values.serverErrors += sample.count
    }
    if (entry.time < from) {
      add(histogram(before, sample.series))
      continue
    }
    const slot = bucket === 'hour' ? `${entry.time.slice(0, 13)}:00` : entry.time.slice(0, 10)
    let slotSeries = byBucket.get(slot)
    if (slotSeries === undefined) byBucket.set(slot, slotSeries = new Map())
    add(histogram(current, sample.series))
    add(histogram(slotSeries, sample.series))
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
