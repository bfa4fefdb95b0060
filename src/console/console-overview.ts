// The console's overview: the figures a team watches (turns, answer rate, latency, errors, active
// sessions, feedback) over the last hour, day or week, with a series for the charts. Turns,
// latency and feedback come from the transcript; failed requests from the turn traces, since a
// turn that failed was never stored. Active sessions are the session manager's count, as /status
// and the SessionLimit alert have them.
import type { Queryable } from '../db/database.js'
import { JOIN_TURN_TRACE, LIVED_LATENCY_MS } from '../turn-traces/turn-trace.js'
import type { Overview } from './console-schemas.js'

export type OverviewPeriod = 'hour' | 'day' | 'week'

// Each period's length and the width of its chart's buckets: a dozen to thirty points.
const PERIODS: Record<OverviewPeriod, { ms: number, bucketMs: number, bucket: string }> = {
  hour: { ms: 3_600_000, bucketMs: 300_000, bucket: '5 minutes' },
  day: { ms: 86_400_000, bucketMs: 3_600_000, bucket: '1 hour' },
  week: { ms: 7 * 86_400_000, bucketMs: 6 * 3_600_000, bucket: '6 hours' }
}

type Figures = Omit<Overview, 'alerts_firing' | 'turn_traces' | 'active_sessions'>

export async function overview (db: Queryable, period: OverviewPeriod, now: Date): Promise<Figures> {
  const { ms, bucketMs, bucket } = PERIODS[period]
  // Buckets aligned to their width, so the same period read twice draws the same points.
  const to = new Date(Math.ceil(now.getTime() / bucketMs) * bucketMs)
  const from = new Date(to.getTime() - ms)
  const range = [from, to]
  const [turns, series, failures, feedback] = await Promise.all([
    db.query<{ turns: number, answered: number, no_answer: number, p50: number | null, p95: number | null }>(
      `SELECT count(*)::int AS turns, (count(*) FILTER (WHERE b.kind = 'answer'))::int AS answered, (count(*) FILTER (WHERE b.kind = 'no_answer'))::int AS no_answer,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS}) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS}) AS p95
       FROM messages b ${JOIN_TURN_TRACE} WHERE b.role = 'bot' AND b.created_at >= $1 AND b.created_at < $2`, range),
    db.query<{ at: Date, turns: number, answered: number, no_answer: number, p95: number | null }>(
      `SELECT date_bin($3::interval, b.created_at, $1) AS at, count(*)::int AS turns, (count(*) FILTER (WHERE b.kind = 'answer'))::int AS answered,
         (count(*) FILTER (WHERE b.kind = 'no_answer'))::int AS no_answer, percentile_cont(0.95) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS}) AS p95
       FROM messages b ${JOIN_TURN_TRACE} WHERE b.role = 'bot' AND b.created_at >= $1 AND b.created_at < $2 GROUP BY 1`, [...range, bucket]),
    db.query<{ at: Date, requests: number, errors: number }>(
      `SELECT date_bin($3::interval, started_at, $1) AS at, count(*)::int AS requests, (count(*) FILTER (WHERE status = 'error'))::int AS errors
       FROM turn_traces WHERE started_at >= $1 AND started_at < $2 GROUP BY 1`, [...range, bucket]),
    db.query<{ rating: 'up' | 'down', n: number }>('SELECT rating, count(*)::int AS n FROM feedback WHERE created_at >= $1 AND created_at < $2 GROUP BY rating', range)
  ])
  const totals = turns.rows[0] ?? { turns: 0, answered: 0, no_answer: 0, p50: null, p95: null }
  const questions = totals.answered + totals.no_answer
  const requests = failures.rows.reduce((sum, row) => sum + row.requests, 0)
  const errors = failures.rows.reduce((sum, row) => sum + row.errors, 0)
  const byBucket = new Map(series.rows.map(row => [new Date(row.at).getTime(), row]))
  const errorsByBucket = new Map(failures.rows.map(row => [new Date(row.at).getTime(), row.errors]))
  const points: Figures['series'] = []
  for (let at = from.getTime(); at < to.getTime(); at += bucketMs) {
    const row = byBucket.get(at)
    points.push({ at: new Date(at).toISOString(), turns: row?.turns ?? 0, answered: row?.answered ?? 0, no_answer: row?.no_answer ?? 0, errors: errorsByBucket.get(at) ?? 0, p95_ms: row?.p95 ?? null })
  }
  return {
    period,
    from: from.toISOString(),
    to: to.toISOString(),
    turns: totals.turns,
    answer_rate: questions === 0 ? null : totals.answered / questions,
    latency_ms: { p50: totals.p50, p95: totals.p95 },
    // Out of every chat request whose trace was kept (none are with TURN_TRACE_RETENTION_DAYS=0).
    error_rate: requests === 0 ? null : errors / requests,
    feedback: { up: feedback.rows.find(row => row.rating === 'up')?.n ?? 0, down: feedback.rows.find(row => row.rating === 'down')?.n ?? 0 },
    series: points
  }
}
