// The usage and latency figures from the database, where every turn is stored with its reply
// kind, command, top score and latency: the same figures `npm run analyze` reads from the log
// files, for the analytics API, and exact (percentile_cont) rather than estimated.
import { reportedCommand } from '../commands/command-parser.js'
import type { Queryable } from '../db/database.js'
import { scrub } from '../logging/scrubber.js'
import { JOIN_TURN_TRACE, LIVED_LATENCY_MS } from '../turn-traces/turn-trace.js'
import { previousPeriod, type Period } from './log-scan.js'
import { findRegressions, type Bucket, type LatencyRow, type Regression } from './perf-report.js'
import { addModelCalls, groupQuestions, type ModelUsage, type UsageFigures } from './usage-report.js'

// Distinct unanswered wordings considered for grouping: the most asked, enough for a top ten.
const UNANSWERED_WORDINGS = 1000

export async function usageFromDatabase (db: Queryable, period: Period): Promise<UsageFigures> {
  const range = [period.from, period.to]
  const [turns, people, started, feedback, unanswered, generations] = await Promise.all([
    db.query<{ kind: string, command: string | null, n: number }>(
      "SELECT kind, command, count(*)::int AS n FROM messages WHERE role = 'bot' AND created_at >= $1 AND created_at < $2 GROUP BY kind, command", range),
    db.query<{ sessions: number, users: number }>(
      `SELECT count(DISTINCT m.session_id)::int AS sessions, count(DISTINCT s.user_id)::int AS users
       FROM messages m JOIN sessions s ON s.id = m.session_id WHERE m.role = 'bot' AND m.created_at >= $1 AND m.created_at < $2`, range),
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE created_at >= $1 AND created_at < $2', range),
    db.query<{ rating: 'up' | 'down', n: number }>('SELECT rating, count(*)::int AS n FROM feedback WHERE created_at >= $1 AND created_at < $2 GROUP BY rating', range),
    db.query<{ text: string, n: number }>(
      `SELECT u.content AS text, count(*)::int AS n FROM messages b
       JOIN messages u ON u.session_id = b.session_id AND u.turn = b.turn AND u.role = 'user'
       WHERE b.role = 'bot' AND b.kind = 'no_answer' AND b.created_at >= $1 AND b.created_at < $2
       GROUP BY u.content ORDER BY n DESC LIMIT ${UNANSWERED_WORDINGS}`, range),
    // Sums as float8: a bigint would come back as a string.
    db.query<{ reason: string | null, n: number, input_tokens: number, output_tokens: number, cost_usd: number }>(
      `SELECT generation->>'fallback_reason' AS reason, count(*)::int AS n, coalesce(sum((generation->>'input_tokens')::float8), 0) AS input_tokens,
         coalesce(sum((generation->>'output_tokens')::float8), 0) AS output_tokens, coalesce(sum((generation->>'cost_usd')::float8), 0) AS cost_usd
       FROM messages WHERE role = 'bot' AND generation IS NOT NULL AND created_at >= $1 AND created_at < $2 GROUP BY 1`, range)
  ])
  const byKind: Record<string, number> = {}
  const commands: Record<string, number> = {}
  let total = 0
  for (const { kind, command, n } of turns.rows) {
    byKind[kind] = (byKind[kind] ?? 0) + n
    if (command !== null) {
      const name = reportedCommand(command)
      commands[name] = (commands[name] ?? 0) + n
    }
    total += n
  }
  const questions = (byKind.answer ?? 0) + (byKind.no_answer ?? 0)
  const sessions = people.rows[0]?.sessions ?? 0
  // What analysts see of users' words is scrubbed, as in the logs: the database holds them verbatim.
  const texts = new Map<string, number>()
  for (const { text, n } of unanswered.rows) texts.set(scrub(text), (texts.get(scrub(text)) ?? 0) + n)
  let languageModel: ModelUsage | undefined
  for (const row of generations.rows) {
    languageModel = addModelCalls(languageModel, { count: row.n, reason: row.reason ?? undefined, inputTokens: row.input_tokens, outputTokens: row.output_tokens, costUsd: row.cost_usd })
  }
  return {
    turns: total,
    turns_by_kind: byKind,
    answer_rate: questions === 0 ? undefined : (byKind.answer ?? 0) / questions,
    sessions_started: started.rows[0]?.n ?? 0,
    sessions_active: sessions,
    active_users: people.rows[0]?.users ?? 0,
    turns_per_session: sessions === 0 ? undefined : total / sessions,
    commands,
    feedback: { up: feedback.rows.find(row => row.rating === 'up')?.n ?? 0, down: feedback.rows.find(row => row.rating === 'down')?.n ?? 0 },
    unanswered: groupQuestions(texts),
    unanswered_without_text: 0,
    language_model: languageModel
  }
}

interface LatencyQueryRow { bucket: string, kind: string, n: number, p50: number, p95: number, p99: number }

async function turnLatencies (db: Queryable, period: Period, bucket: Bucket | 'all'): Promise<LatencyRow[]> {
  // The bucket is one of two fixed words, never user text, so it may stand in the SQL.
  const slot = bucket === 'all' ? "'all'" : `to_char(date_trunc('${bucket}', b.created_at AT TIME ZONE 'UTC'), '${bucket === 'hour' ? 'YYYY-MM-DD"T"HH24:00' : 'YYYY-MM-DD'}')`
  const { rows } = await db.query<LatencyQueryRow>(
    `SELECT ${slot} AS bucket, b.kind, count(*)::int AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS}) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS}) AS p95,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY ${LIVED_LATENCY_MS}) AS p99
     FROM messages b ${JOIN_TURN_TRACE} WHERE b.role = 'bot' AND ${LIVED_LATENCY_MS} IS NOT NULL AND b.created_at >= $1 AND b.created_at < $2
     GROUP BY 1, 2 ORDER BY 1, 2`, [period.from, period.to])
  const ms = (value: number): number => Math.round(Number(value) * 10) / 10
  return rows.map(row => ({ series: `turn ${row.kind}`, bucket: row.bucket, count: row.n, p50_ms: ms(row.p50), p95_ms: ms(row.p95), p99_ms: ms(row.p99), server_errors: 0 }))
}

export interface DatabasePerformance { bucket: Bucket, rows: LatencyRow[], totals: LatencyRow[], regressions: Regression[] }

/** Turn latency by reply kind, per hour or day, and regressions against the period before. */
export async function performanceFromDatabase (db: Queryable, period: Period, bucket: Bucket): Promise<DatabasePerformance> {
  const [rows, totals, before] = await Promise.all([turnLatencies(db, period, bucket), turnLatencies(db, period, 'all'), turnLatencies(db, previousPeriod(period), 'all')])
  totals.sort((a, b) => b.count - a.count)
  return { bucket, rows, totals, regressions: findRegressions(totals, new Map(before.map(row => [row.series, row]))) }
}
