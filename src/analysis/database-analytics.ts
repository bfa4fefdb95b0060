// The usage and latency figures from the database, where every turn is stored with its reply
// kind, command, top score and latency: the same figures `npm run analyze` reads from the log
// files, for the analytics API, and exact (percentile_cont) rather than estimated.
import { reportedCommand } from '../commands/command-parser.js'
import type { Queryable } from '../db/database.js'
import { scrub } from '../logging/scrubber.js'
import { sessionsStarted } from '../sessions/session-queries.js'
import { turnLatencyRows, usageRows } from '../transcript/transcript-queries.js'
import { previousPeriod, type Period } from './log-scan.js'
import { findRegressions, type Bucket, type LatencyRow, type Regression } from './perf-report.js'
import { addModelCalls, groupQuestions, type ModelUsage, type UsageFigures } from './usage-report.js'

// Distinct unanswered wordings considered for grouping: the most asked, enough for a top ten.
const UNANSWERED_WORDINGS = 1000

export async function usageFromDatabase (db: Queryable, period: Period): Promise<UsageFigures> {
  const [usage, started] = await Promise.all([usageRows(db, period, UNANSWERED_WORDINGS), sessionsStarted(db, period)])
  const byKind: Record<string, number> = {}
  const commands: Record<string, number> = {}
  let total = 0
  for (const { kind, command, n } of usage.turns) {
    byKind[kind] = (byKind[kind] ?? 0) + n
    if (command !== null) {
      const name = reportedCommand(command)
      commands[name] = (commands[name] ?? 0) + n
    }
    total += n
  }
  const questions = (byKind.answer ?? 0) + (byKind.no_answer ?? 0)
  const sessions = usage.people.sessions
  // What analysts see of users' words is scrubbed, as in the logs: the database holds them verbatim.
  const texts = new Map<string, number>()
  for (const { text, n } of usage.unanswered) texts.set(scrub(text), (texts.get(scrub(text)) ?? 0) + n)
  let languageModel: ModelUsage | undefined
  for (const row of usage.modelCalls) {
    languageModel = addModelCalls(languageModel, {
      count: row.n,
      reason: row.reason ?? undefined,
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      costUsd: row.cost_usd
    })
  }
  return {
    turns: total,
    turns_by_kind: byKind,
    answer_rate: questions === 0 ? undefined : (byKind.answer ?? 0) / questions,
    sessions_started: started,
    sessions_active: sessions,
    active_users: usage.people.users,
    turns_per_session: sessions === 0 ? undefined : total / sessions,
    commands,
    feedback: {
      up: usage.feedback.find(row => row.rating === 'up')?.n ?? 0,
      down: usage.feedback.find(row => row.rating === 'down')?.n ?? 0
    },
    unanswered: groupQuestions(texts),
    unanswered_without_text: 0,
    language_model: languageModel
  }
}

async function turnLatencies (db: Queryable, period: Period, bucket: Bucket | 'all'): Promise<LatencyRow[]> {
  const rows = await turnLatencyRows(db, period, bucket)
  const ms = (value: number): number => Math.round(Number(value) * 10) / 10
  return rows.map(row => ({
    series: `turn ${row.kind}`,
    bucket: row.bucket,
    count: row.n,
    p50_ms: ms(row.p50),
    p95_ms: ms(row.p95),
    p99_ms: ms(row.p99),
    server_errors: 0
  }))
}

export interface DatabasePerformance {
  bucket: Bucket
  rows: LatencyRow[]
  totals: LatencyRow[]
  regressions: Regression[]
}

/** Turn latency by reply kind, per hour or day, and regressions against the period before. */
export async function performanceFromDatabase (
  db: Queryable, period: Period, bucket: Bucket
): Promise<DatabasePerformance> {
  const [rows, totals, before] = await Promise.all([
    turnLatencies(db, period, bucket),
    turnLatencies(db, period, 'all'),
    turnLatencies(db, previousPeriod(period), 'all')
  ])
  totals.sort((a, b) => b.count - a.count)
  return { bucket, rows, totals, regressions: findRegressions(totals, new Map(before.map(row => [row.series, row]))) }
}
