// The console's overview: the figures a team watches (turns, answer rate, latency, errors, active
// sessions, feedback) over the last hour, day or week, with a series for the charts. Turns,
// latency and feedback come from the transcript; failed requests from the turn traces, since a
// turn that failed was never stored. Active sessions are the session manager's count, as /status
// and the SessionLimit alert have them.
import type { Queryable } from '../db/database.js'
import { turnTraceCounts } from '../turn-traces/turn-traces-of.js'
import { feedbackCounts, turnFigures } from '../transcript/transcript-queries.js'
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
  const [turns, failures, feedback] = await Promise.all([
    turnFigures(db, { from, to }, bucket),
    turnTraceCounts(db, { from, to }, bucket),
    feedbackCounts(db, { from, to })
  ])
  const { totals, series } = turns
  const questions = totals.answered + totals.no_answer
  const requests = failures.reduce((sum, row) => sum + row.requests, 0)
  const errors = failures.reduce((sum, row) => sum + row.errors, 0)
  const byBucket = new Map(series.map(row => [new Date(row.at).getTime(), row]))
  const errorsByBucket = new Map(failures.map(row => [new Date(row.at).getTime(), row.errors]))
  const points: Figures['series'] = []
  for (let at = from.getTime(); at < to.getTime(); at += bucketMs) {
    const row = byBucket.get(at)
    points.push({
      at: new Date(at).toISOString(),
      turns: row?.turns ?? 0,
      answered: row?.answered ?? 0,
      no_answer: row?.no_answer ?? 0,
      errors: errorsByBucket.get(at) ?? 0,
      p95_ms: row?.p95 ?? null
    })
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
    feedback: {
      up: feedback.find(row => row.rating === 'up')?.n ?? 0,
      down: feedback.find(row => row.rating === 'down')?.n ?? 0
    },
    series: points
  }
}
