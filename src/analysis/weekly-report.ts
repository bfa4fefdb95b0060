// The weekly report: this week against the one before, in the figures a team reviews on Monday
// (traffic, latency, error rate and the top error patterns, answer rate, satisfaction, the
// questions the bot could not answer, the alerts that fired, and, with a language model, what it
// cost and how often it wrote the answer, and, when the team runs test questions, the knowledge
// base's accuracy), from the log files alone. Its Markdown and HTML are weekly-render.ts's, which
// depends on this file and never the other way round.
import { analyzeErrors, type ErrorPattern } from './error-patterns.js'
import { emptyStats, previousPeriod, scanLogs, type Period, type ScanStats } from './log-scan.js'
import { analyzePerf, type LatencyRow } from './perf-report.js'
import { analyzeUsage, type UnansweredQuestion, type UsageReport } from './usage-report.js'

export interface WeekFigures {
  from: string
  to: string
  turns: number
  requests: number
  /** 5xx among requests; undefined without requests. */
  error_rate: number | undefined
  chat_p50_ms: number | undefined
  chat_p95_ms: number | undefined
  chat_p99_ms: number | undefined
  answer_rate: number | undefined
  /** up / (up + down); undefined without feedback. */
  satisfaction: number | undefined
  feedback: { up: number, down: number }
  sessions: number
  active_users: number
  /** The language model's cost in US dollars; undefined when it was asked nothing. */
  model_cost_usd: number | undefined
  /** Answers it wrote out of those asked for; undefined when it was asked nothing. */
  model_written_rate: number | undefined
  /**
   * The accuracy of the week's last run of the test questions (kb.evaluation_completed); last week's
   * is that of its last run of the same questions as this week's last; undefined without one.
   */
  kb_accuracy: number | undefined
}

export interface WeeklyReport {
  this_week: WeekFigures
  last_week: WeekFigures
  /** This week by day: turns and chat p95. */
  daily: Array<{ day: string, turns: number, chat_p95_ms: number | undefined }>
  top_errors: ErrorPattern[]
  error_patterns: number
  unanswered: UnansweredQuestion[]
  alerts: Array<{ alert: string, severity: string, fired: number }>
  /** What could not be read, over every pass. */
  problems: Pick<ScanStats, 'unreadableFiles' | 'truncatedFiles' | 'badLines'> & { files: number }
}

const CHAT = 'POST /v1/chat'
const WEEK_MS = 7 * 86_400_000

function figures (
  period: Period, usage: UsageReport, totals: LatencyRow[], kbAccuracy: number | undefined
): WeekFigures {
  const requests = totals.filter(row => !row.series.startsWith('turn '))
  const count = requests.reduce((sum, row) => sum + row.count, 0)
  const failed = requests.reduce((sum, row) => sum + row.server_errors, 0)
  const chat = totals.find(row => row.series === CHAT)
  const rated = usage.feedback.up + usage.feedback.down
  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    turns: usage.turns,
    requests: count,
    error_rate: count === 0 ? undefined : failed / count,
    chat_p50_ms: chat?.p50_ms,
    chat_p95_ms: chat?.p95_ms,
    chat_p99_ms: chat?.p99_ms,
    answer_rate: usage.answer_rate,
    satisfaction: rated === 0 ? undefined : usage.feedback.up / rated,
    feedback: usage.feedback,
    sessions: usage.sessions_active,
    active_users: usage.active_users,
    model_cost_usd: usage.language_model?.cost_usd,
    model_written_rate: usage.language_model === undefined
      ? undefined
      : usage.language_model.written / usage.language_model.calls,
    kb_accuracy: kbAccuracy
  }
}

/** Alerts the app notified, from its "alert … firing" lines (reminders not counted again). */
async function alertsFired (dir: string, period: Period, stats: ScanStats): Promise<WeeklyReport['alerts']> {
  const fired = new Map<string, { severity: string, fired: number }>()
  const wanted = (line: string): boolean => line.includes('"module":"alerts"') && line.includes('"status":"firing"')
  for await (const entry of scanLogs({ dir, families: ['chatbot'], period, wanted }, stats)) {
    if (entry.fn !== 'notify' || entry.repeat === true || typeof entry.alert !== 'string') continue
    const found = fired.get(entry.alert) ?? { severity: String(entry.severity), fired: 0 }
    found.fired++
    fired.set(entry.alert, found)
  }
  return [...fired]
    .map(([alert, { severity, fired }]) => ({ alert, severity, fired }))
    .sort((a, b) => b.fired - a.fired)
}

interface LastRun { time: string, accuracy: number, digest: unknown }

/**
 * The period's last run of the test questions, from its kb.evaluation_completed line; of the
 * questions with this digest only, when given: a week is compared with the last run of the same
 * questions the week before, not with a run of other ones.
 */
async function lastRun (dir: string, period: Period, stats: ScanStats, digest?: unknown): Promise<LastRun | undefined> {
  let last: LastRun | undefined
  const wanted = (line: string): boolean => line.includes('"kb.evaluation_completed"')
  for await (const entry of scanLogs({ dir, families: ['chatbot'], period, wanted }, stats)) {
    if (entry.msg !== 'kb.evaluation_completed' || typeof entry.accuracy !== 'number') continue
    if (digest !== undefined && entry.questions_digest !== digest) continue
    if (last === undefined || entry.time >= last.time) {
      last = { time: entry.time, accuracy: entry.accuracy, digest: entry.questions_digest }
    }
  }
  return last
}

/** The day (UTC, YYYY-MM-DD) of a moment. */
const day = (at: Date): string => at.toISOString().slice(0, 10)

/**
 * The seven whole UTC days before the day of `to` (default now), against the seven before them.
 * Whole days, so the header, the by-day table and the figures cover the same days (a rolling
 * 7 x 24 h began mid-day on a date the table did not show), and two weeks compare like for like.
 */
export async function weeklyReport (options: { dir: string, to?: Date }): Promise<WeeklyReport> {
  const to = new Date(`${day(options.to ?? new Date())}T00:00:00Z`)
  const thisWeek = { from: new Date(to.getTime() - WEEK_MS), to }
  const lastWeek = previousPeriod(thisWeek)
  const [usage, usageBefore, perf, errors] = [
    await analyzeUsage({ dir: options.dir, period: thisWeek }),
    await analyzeUsage({ dir: options.dir, period: lastWeek }),
    // Reads last week too, for its regressions: its totals are last week's figures.
    await analyzePerf({ dir: options.dir, period: thisWeek, bucket: 'day' }),
    await analyzeErrors({ dir: options.dir, period: thisWeek })
  ]
  const alertStats = emptyStats()
  const alerts = await alertsFired(options.dir, thisWeek, alertStats)
  const latest = await lastRun(options.dir, thisWeek, alertStats)
  // A run logged before its lines named their questions (no digest) is compared as before.
  const accuracy = [latest?.accuracy, (await lastRun(options.dir, lastWeek, alertStats, latest?.digest))?.accuracy]
  const turnsByDay = new Map<string, number>()
  for (const row of perf.rows) {
    if (row.series.startsWith('turn ')) turnsByDay.set(row.bucket, (turnsByDay.get(row.bucket) ?? 0) + row.count)
  }
  const days = Array.from({ length: 7 }, (_, i) => day(new Date(thisWeek.from.getTime() + i * 86_400_000)))
  const passes = [usage.stats, usageBefore.stats, perf.stats, errors.stats, alertStats]
  const unique = <T extends { file: string }>(lists: T[][]): T[] =>
    [...new Map(lists.flat().map(item => [item.file, item])).values()]
  return {
    this_week: figures(thisWeek, usage, perf.totals, accuracy[0]),
    last_week: figures(lastWeek, usageBefore, perf.previous_totals, accuracy[1]),
    daily: days.map(day => ({
      day,
      turns: turnsByDay.get(day) ?? 0,
      chat_p95_ms: perf.rows.find(row => row.bucket === day && row.series === CHAT)?.p95_ms
    })),
    top_errors: errors.patterns.slice(0, 5),
    error_patterns: errors.patterns.length,
    unanswered: usage.unanswered,
    alerts,
    problems: {
      files: usage.stats.files + usageBefore.stats.files,
      unreadableFiles: unique(passes.map(stats => stats.unreadableFiles)),
      truncatedFiles: unique(passes.map(stats => stats.truncatedFiles)),
      // Each pass reads the week's files again: the most any one pass met, not the sum.
      badLines: Math.max(...passes.map(stats => stats.badLines))
    }
  }
}

/** The last day a week covers (its `to` is the midnight after it). */
export function lastDay (week: Pick<WeekFigures, 'to'>): string {
  return day(new Date(new Date(week.to).getTime() - 1))
}
