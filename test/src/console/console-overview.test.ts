// The console's overview on a week of turns, traces and ratings: the same counts as the turns
// themselves give and percentiles within 10 % of the exact ones, for each period; the closed
// buckets stored once and read after, while the last minutes are read live; several overviews
// at once, as instances sharing a database ask them; on every engine.
import t from 'tap'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import { CLOSED_AFTER_MS, overview, type OverviewPeriod } from '../../../src/console/console-overview.js'
import type { Database } from '../../../src/db/database.js'
import { SessionManager } from '../../../src/sessions/session-manager.js'
import { TranscriptRepository } from '../../../src/transcript/transcript-repository.js'
import { engines, manualClock } from '../../helper.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const NOW = new Date('2026-01-15T10:02:30Z')
const PERIODS = { hour: [HOUR, 5 * MINUTE], day: [DAY, HOUR], week: [7 * DAY, 6 * HOUR] } as const

interface Turn { at: number, kind: 'answer' | 'no_answer' | 'command', latencyMs: number, traced?: number, rating?: 'up' | 'down' }
interface Trace { at: number, error: boolean }

/** Turns over the last 8 days, denser in the last hour; some traced (one in eleven failed after), some rated. */
function history (): { turns: Turn[], failed: Trace[] } {
  const turns: Turn[] = []
  const failed: Trace[] = []
  for (let i = 0; i < 400; i++) {
    const ago = i < 100 ? (i * 7919 % 3600) * 1000 : (i * 104_729 % (8 * 86_400)) * 1000
    turns.push({
      at: NOW.getTime() - ago - 1,
      kind: (['answer', 'answer', 'no_answer', 'command'] as const)[i % 4]!,
      latencyMs: 3 + (i * 31 % 97) * (i % 5 === 0 ? 40 : 1),
      ...i % 3 === 0 ? { traced: 50 + i } : {},
      ...i % 5 === 0 ? { rating: i % 10 === 0 ? 'down' : 'up' } : {}
    })
    if (i % 11 === 0) failed.push({ at: NOW.getTime() - ago - 500, error: i % 2 === 0 })
  }
  return { turns: turns.sort((a, b) => a.at - b.at), failed }
}

async function store (db: Database, turns: Turn[], failed: Trace[]): Promise<void> {
  const clock = manualClock(new Date(turns[0]!.at))
  const limits = { idleTimeoutMs: 30 * DAY, maxAgeMs: 365 * DAY, maxActive: 1000, maxPerUser: 1000 }
  const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits })
  const transcript = new TranscriptRepository(db)
  for (const [i, turn] of turns.entries()) {
    clock.advance(turn.at - clock.now().getTime())
    const session = (await sessions.transaction((tx, audit) => sessions.create(tx, 'u1', audit))).id
    await sessions.recordTurn(db, session, {
      userText: `question ${i}`, reply: 'reply', kind: turn.kind, command: turn.kind === 'command' ? 'help' : null, sources: [], topScore: null, latencyMs: turn.latencyMs
    })
    if (turn.traced !== undefined) {
      await db.query(`INSERT INTO turn_traces (trace_id, session_id, turn, status, status_code, started_at, duration_ms)
        VALUES ($1, $2, 1, 'ok', 200, $3, $4)`, [`t${i}`, session, new Date(turn.at), turn.traced])
    }
    if (turn.rating !== undefined) {
      await transcript.recordFeedback(db, { sessionId: session, turn: 1, rating: turn.rating, comment: null, at: new Date(turn.at + 1) })
    }
  }
  for (const [i, trace] of failed.entries()) {
    await db.query(`INSERT INTO turn_traces (trace_id, session_id, turn, status, status_code, started_at, duration_ms)
      VALUES ($1, NULL, NULL, $2, $3, $4, 20)`, [`f${i}`, trace.error ? 'error' : 'ok', trace.error ? 500 : 200, new Date(trace.at)])
  }
}

/** As percentile_cont. */
function exact (values: number[], fraction: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const rank = fraction * (sorted.length - 1)
  const below = Math.floor(rank)
  return sorted[below]! + (rank - below) * ((sorted[below + 1] ?? sorted[below]!) - sorted[below]!)
}

/** What the overview should say, counted from the turns themselves. */
function expected (period: OverviewPeriod, now: Date, { turns, failed }: ReturnType<typeof history>) {
  const [ms, bucketMs] = PERIODS[period]
  const to = Math.ceil(now.getTime() / bucketMs) * bucketMs
  const from = to - ms
  const inside = (at: number) => at >= from && at < to
  const kept = turns.filter(turn => inside(turn.at))
  const traces = [...turns.filter(turn => turn.traced !== undefined).map(turn => ({ at: turn.at, error: false })), ...failed]
    .filter(trace => inside(trace.at))
  const lived = (list: Turn[]) => list.map(turn => turn.traced ?? turn.latencyMs)
  const count = (list: Turn[], kind: string) => list.filter(turn => turn.kind === kind).length
  const series = []
  for (let at = from; at < to; at += bucketMs) {
    const point = kept.filter(turn => turn.at >= at && turn.at < at + bucketMs)
    series.push({
      at: new Date(at).toISOString(),
      turns: point.length,
      answered: count(point, 'answer'),
      no_answer: count(point, 'no_answer'),
      errors: traces.filter(trace => trace.error && trace.at >= at && trace.at < at + bucketMs).length,
      p95_ms: exact(lived(point), 0.95)
    })
  }
  const ratings = turns.filter(turn => inside(turn.at + 1))
  return {
    period,
    from: new Date(from).toISOString(),
    to: new Date(Math.min(to, now.getTime())).toISOString(),
    turns: kept.length,
    answer_rate: count(kept, 'answer') / (count(kept, 'answer') + count(kept, 'no_answer')),
    latency_ms: { p50: exact(lived(kept), 0.5), p95: exact(lived(kept), 0.95) },
    error_rate: traces.filter(trace => trace.error).length / traces.length,
    feedback: { up: ratings.filter(turn => turn.rating === 'up').length, down: ratings.filter(turn => turn.rating === 'down').length },
    series
  }
}

type Figures = Awaited<ReturnType<typeof overview>>

/** The figures with each percentile replaced by whether it is within 10 % of the one expected. */
function compared (figures: Figures, truth: ReturnType<typeof expected>) {
  const near = (value: number | null, exactValue: number | null) =>
    value === exactValue || (value !== null && exactValue !== null && Math.abs(value - exactValue) <= 0.1 * exactValue)
  return {
    actual: {
      ...figures,
      latency_ms: { p50: near(figures.latency_ms.p50, truth.latency_ms.p50), p95: near(figures.latency_ms.p95, truth.latency_ms.p95) },
      series: figures.series.map((point, i) => ({ ...point, p95_ms: near(point.p95_ms, truth.series[i]!.p95_ms) }))
    },
    expected: { ...truth, latency_ms: { p50: true, p95: true }, series: truth.series.map(point => ({ ...point, p95_ms: true })) }
  }
}

const storedBuckets = async (db: Database) => (await db.query<{ table: string, width_ms: number, n: number }>(
  `SELECT 'transcript' AS table, width_ms, count(*)::int AS n FROM transcript_rollup GROUP BY 2
   UNION ALL SELECT 'traces', width_ms, count(*)::int FROM turn_trace_rollup GROUP BY 2 ORDER BY 1, 2`)).rows

for (const engine of engines()) {
  t.test(`${engine.name}: each period's figures as the turns give them, the closed buckets stored once`, async t => {
    const db = await engine.open(t)
    const events = history()
    await store(db, events.turns, events.failed)

    for (const period of ['hour', 'day', 'week'] as const) {
      const { actual, expected: truth } = compared(await overview(db, period, NOW), expected(period, NOW, events))
      t.same(actual, truth, `${period}: counts exact, percentiles within 10 %`)
    }
    // Closed by 10:01:30: the week's 6-hour buckets up to 06:00, then its hours up to 10:00; the
    // day's hours up to 10:00; the hour's 5 minutes up to 10:00; and every part of them.
    const hours = 6 * 27 + 4
    t.same(await storedBuckets(db), [
      { table: 'traces', width_ms: 5 * MINUTE, n: 12 * hours },
      { table: 'traces', width_ms: HOUR, n: hours },
      { table: 'traces', width_ms: 6 * HOUR, n: 27 },
      { table: 'transcript', width_ms: 5 * MINUTE, n: 12 * hours },
      { table: 'transcript', width_ms: HOUR, n: hours },
      { table: 'transcript', width_ms: 6 * HOUR, n: 27 }
    ], 'the closed buckets stored, each once')

    const again = await overview(db, 'week', NOW)
    t.same(again, await overview(db, 'week', NOW), 'read again: the same')

    // A turn stamped in a stored bucket after it was stored is not counted; one in the last minutes is.
    const late = { at: NOW.getTime() - 3 * HOUR, kind: 'answer', latencyMs: 5 } as const
    const recent = { at: NOW.getTime() - CLOSED_AFTER_MS / 2, kind: 'no_answer', latencyMs: 5 } as const
    await store(db, [late], [])
    await store(db, [recent], [])
    const withRecent = { turns: [...events.turns, recent], failed: events.failed }
    for (const period of ['hour', 'day', 'week'] as const) {
      const { actual, expected: truth } = compared(await overview(db, period, NOW), expected(period, NOW, withRecent))
      t.same(actual, truth, `${period}: the late turn left out, the recent one counted`)
    }

    // Later: the buckets closed since are stored as they are needed, the others left as they were.
    const later = new Date(NOW.getTime() + 7 * HOUR)
    const { actual, expected: truth } = compared(await overview(db, 'week', later), expected('week', later, withRecent))
    t.same(actual, truth, 'seven hours later')
  })

  t.test(`${engine.name}: overviews asked at once store each bucket once and agree`, async t => {
    const db = await engine.open(t)
    const events = history()
    await store(db, events.turns, events.failed)
    const periods = ['week', 'day', 'hour', 'week', 'day'] as const
    const figures = await Promise.all(periods.map(period => overview(db, period, NOW)))
    for (const [i, period] of periods.entries()) {
      const { actual, expected: truth } = compared(figures[i]!, expected(period, NOW, events))
      t.same(actual, truth, period)
    }
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM transcript_rollup GROUP BY width_ms, at HAVING count(*) > 1')
    t.same(rows, [])
  })

  t.test(`${engine.name}: an empty database: no turns, no rates, no percentiles`, async t => {
    const db = await engine.open(t)
    const figures = await overview(db, 'day', NOW)
    t.match(figures, { turns: 0, answer_rate: null, latency_ms: { p50: null, p95: null }, error_rate: null, feedback: { up: 0, down: 0 } })
    t.equal(figures.series.length, 24)
    t.ok(figures.series.every(point => point.turns === 0 && point.p95_ms === null))
  })
}
