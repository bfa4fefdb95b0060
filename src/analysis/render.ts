// The analysis reports as a person reads them: aligned text for a terminal, Markdown for an issue
// or a wiki. (JSON is the report object itself.)
import type { ErrorReport } from './error-patterns.js'
import type { HealthReport, LogHealth } from './health-report.js'
import type { ScanStats } from './log-scan.js'
import { REGRESSION_RATIO, type LatencyRow, type PerfReport } from './perf-report.js'
import type { UsageReport } from './usage-report.js'
import { excerpt } from '../text/excerpt.js'

export type TextFormat = 'text' | 'md'

// Control characters (C0, DEL, C1), line breaks included, written as \u escapes: chat text in the
// logs is the users', and an escape sequence printed raw could clear an operator's terminal or set
// its title, a newline break a table.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g

/** Text from the logs as it may be printed on a terminal or in one line of Markdown. */
export function printable (text: string): string {
  return text.replace(CONTROL, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

// A question in a table: a user's 2,100 emoji would fill the terminal. JSON keeps it whole.
const EXCERPT_GRAPHEMES = 100

/** The text, or its first graphemes and how long it is, for one cell of a table. */
export function cellExcerpt (text: string): string {
  return excerpt(text, EXCERPT_GRAPHEMES)
}

/**
 * A Markdown table cell: printable, its pipes escaped, and no HTML tag, image or link a viewer
 * would render: users' words are quoted, never obeyed (an image would be fetched by whoever opens
 * the report, a javascript: link run by whoever clicks it). Brackets are escaped, and backslashes
 * first, so that a user's own backslash cannot undo an escape.
 */
export function markdownCell (text: string): string {
  return printable(text.replace(/[\\[\]]/g, '\\$&')).replaceAll('|', '\\|').replaceAll('<', '&lt;')
}

function table (header: string[], rows: string[][], format: TextFormat): string[] {
  if (format === 'md') {
    return [
      `| ${header.join(' | ')} |`,
      `| ${header.map(() => '---').join(' | ')} |`,
      ...rows.map(row => `| ${row.map(markdownCell).join(' | ')} |`)
    ]
  }
  const cells = rows.map(row => row.map(printable))
  const widths = header.map((cell, i) => Math.max(cell.length, ...cells.map(row => row[i]!.length)))
  return [header, ...cells].map(row => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
}

const heading = (text: string, format: TextFormat): string =>
  format === 'md' ? `## ${text}` : `${text}\n${'='.repeat(text.length)}`
const percent = (ratio: number | undefined): string => ratio === undefined ? 'n/a' : `${(ratio * 100).toFixed(1)} %`
/** US dollars: cents, or, below a cent (a few model calls), the first significant digits. */
export const usd = (value: number): string =>
  value === 0 || value >= 0.01 ? `$${value.toFixed(2)}` : `$${value.toPrecision(2)}`
const when = (iso: string): string => iso.slice(0, 16).replace('T', ' ')

const counted = (count: number, one: string, many = `${one}s`): string =>
  `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`

/** What was read and what could not be: a report never hides a bad file behind a zero. */
export function renderScan (stats: ScanStats): string[] {
  const lines = [`Read ${counted(stats.files, 'file')}, ${counted(stats.lines, 'line')}; ` +
    `${counted(stats.entries, 'entry', 'entries')} in the period.`]
  if (stats.badLines > 0) lines.push(`! ${stats.badLines} lines were not JSON log entries and were skipped.`)
  for (const { file, error } of stats.truncatedFiles) {
    lines.push(`! ${file} is truncated or corrupt (${error}); its lines before the damage were read.`)
  }
  for (const { file, error } of stats.unreadableFiles) lines.push(`! ${file} could not be read (${error}).`)
  if (stats.files === 0) lines.push('! No log files cover this period.')
  return lines
}

const periodText = (report: { period: { from: Date, to: Date } }): string =>
  `${when(report.period.from.toISOString())} to ${when(report.period.to.toISOString())} UTC`

export function renderErrors (report: ErrorReport, format: TextFormat): string {
  const lines = [heading(`Error patterns, ${periodText(report)}`, format), '', ...renderScan(report.stats), '',
    `${report.total} errors in ${report.patterns.length} patterns (the period before: ${report.previous_total}).`, '']
  if (report.patterns.length > 0) {
    lines.push(...table(
      ['count', 'before', 'trend', 'type', 'message', 'modules', 'routes', 'first seen', 'last seen', 'fingerprint'],
      report.patterns.map(p => [
        String(p.count), String(p.previous_count), p.trend, p.type, p.message.slice(0, 80), p.modules.join(', '),
        p.routes.join(', '), when(p.first_seen), when(p.last_seen), p.fingerprint
      ]),
      format))
    lines.push('', 'To jump to them:')
    for (const p of report.patterns.slice(0, 10)) {
      const ids = [
        ...p.sample_trace_ids.map(id => `trace ${id}`),
        ...p.sample_session_ids.map(id => `session ${id}`),
        ...p.sample_request_ids.map(id => `req_id ${id}`)
      ]
      lines.push(`- ${p.fingerprint}: ${ids.length === 0 ? 'no ids logged' : ids.join(', ')}`)
    }
  }
  return lines.join('\n') + '\n'
}

export function renderUsage (report: UsageReport, format: TextFormat): string {
  const kinds = Object.entries(report.turns_by_kind)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ')
  const commands = Object.entries(report.commands).sort((a, b) => b[1] - a[1])
  const lines = [heading(`Usage, ${periodText(report)}`, format), '', ...renderScan(report.stats), '',
    ...table(['figure', 'value'], [
      ['turns', `${report.turns} (${kinds || 'none'})`],
      ['answer rate', percent(report.answer_rate)],
      ['sessions started', String(report.sessions_started)],
      ['sessions with turns', String(report.sessions_active)],
      ['active users', String(report.active_users)],
      ['turns per session', report.turns_per_session === undefined ? 'n/a' : report.turns_per_session.toFixed(2)],
      ['feedback', `${report.feedback.up} up, ${report.feedback.down} down`]
    ], format), '']
  if (commands.length > 0) {
    lines.push(...table(['command', 'uses'], commands.map(([name, count]) => [`/${name}`, String(count)]), format), '')
  }
  const model = report.language_model
  if (model !== undefined) {
    const fallbacks = Object.entries(model.fallbacks)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, count]) => `${reason} ${count}`)
      .join(', ')
    lines.push(...table(['language model', 'value'], [
      ['answers asked for', String(model.calls)],
      ['written', `${model.written} (${percent(model.written / model.calls)})`],
      ['fell back', fallbacks === '' ? 'none' : fallbacks],
      ['tokens', `${model.input_tokens} in, ${model.output_tokens} out`],
      ['cost', usd(model.cost_usd)]
    ], format), '')
  }
  lines.push(format === 'md' ? '### Top unanswered questions' : 'Top unanswered questions:')
  if (report.unanswered.length > 0) {
    const rows = report.unanswered.map(q => [String(q.count), String(q.variants), cellExcerpt(q.example)])
    lines.push(...table(['asked', 'wordings', 'question'], rows, format))
  } else {
    lines.push('none with their text logged')
  }
  if (report.unanswered_without_text > 0) {
    lines.push(`(${report.unanswered_without_text} more without their text: LOG_CHAT_CONTENT=off when they were asked)`)
  }
  return lines.join('\n') + '\n'
}

const latencyTable = (rows: LatencyRow[], format: TextFormat, withBucket: boolean): string[] =>
  table([...(withBucket ? ['bucket'] : []), 'series', 'count', 'p50 ms', 'p95 ms', 'p99 ms'],
    rows.map(r => [
      ...(withBucket ? [r.bucket] : []), r.series, String(r.count), String(r.p50_ms), String(r.p95_ms), String(r.p99_ms)
    ]), format)

export function renderPerf (report: PerfReport, format: TextFormat): string {
  const lines = [heading(`Latency, ${periodText(report)}`, format), '', ...renderScan(report.stats), '']
  if (report.totals.length === 0) return [...lines, 'No requests or turns in the period.'].join('\n') + '\n'
  lines.push(...latencyTable(report.totals, format, false), '')
  lines.push(report.regressions.length === 0
    ? `No regressions: no p95 rose ${REGRESSION_RATIO}× or more against the period before.`
    : `Regressions (p95 ${REGRESSION_RATIO}× or more above the period before):`)
  for (const r of report.regressions) {
    lines.push(`- ${r.series}: p95 ${r.p95_ms} ms, was ${r.previous_p95_ms} ms (${r.ratio}×, ${r.count} samples)`)
  }
  lines.push('', format === 'md' ? `### By ${report.bucket}` : `By ${report.bucket}:`,
    ...latencyTable(report.rows, format, true))
  return lines.join('\n') + '\n'
}

const megabytes = (bytes: unknown): string => typeof bytes === 'number' ? `${Math.round(bytes / 1e6)} MB` : 'n/a'

interface FiringAlert { alert: string, severity: string, summary?: string }

// A server that answered (refusing GET /status) is running, whatever its logs leave open.
function healthState (report: LogHealth, answered: boolean): string {
  if (answered) return 'running: it answered, but refused GET /status'
  if (report.last_start === undefined) return 'unknown'
  return report.running_or_crashed
    ? 'started and not shut down: it crashed, or runs where this command did not reach it'
    : 'shut down cleanly'
}

/**
 * server: why GET /status gave nothing, when the report is the logs': no answer, or an answer
 * refusing the key.
 */
export function renderHealth (
  report: HealthReport, format: TextFormat, server?: { note: string, answered: boolean }
): string {
  if (report.source === 'status') {
    const s = report.status as Record<string, Record<string, unknown> & { [key: string]: unknown }>
    const database = s.database ?? {}
    const sessions = s.sessions ?? {}
    const turns = s.turns ?? {}
    const memory = s.memory ?? {}
    const loop = s.event_loop ?? {}
    const firing = (s.alerts_firing as unknown as FiringAlert[] | undefined) ?? []
    const logs = Object.entries((s.log_destinations ?? {}) as Record<string, { state: string }>)
      .map(([family, d]) => `${family} ${d.state}`)
      .join(', ')
    const reachable = database.reachable === true ? 'reachable' : `NOT reachable (${String(database.last_error)})`
    return [heading(`Health of ${report.url} (GET /status)`, format), '', ...table(['figure', 'value'], [
      ['version, uptime', `${String(s.version)}, ${String(s.uptime_seconds)} s`],
      ['database',
        `${String(database.engine)}, ${reachable}, ${String(database.connection_errors)} connection errors`],
      ['sessions', `${String(sessions.active)} of ${String(sessions.cap)}`],
      ['turns in flight',
        `${String(turns.in_flight)}, at most ${String(turns.limit)} at a time; ` +
        `${String(turns.shed_last_5m)} shed past capacity (503) in the last 5 min`],
      ['memory', `${megabytes(memory.rss_bytes)} RSS of ${megabytes(memory.limit_bytes)}`],
      ['event loop', `p99 delay ${String(loop.delay_p99_ms)} ms, utilization ${String(loop.utilization)}`],
      ['log files', logs || 'stdout only'],
      ['alerts firing',
        firing.length === 0 ? 'none' : firing.map(alert => `${alert.alert} (${alert.severity})`).join(', ')]
    ], format)].join('\n') + '\n'
  }
  const why = server?.answered === true ? 'the server refused GET /status' : 'the server did not answer'
  const lines = [heading(`Health from the log files (${why})`, format), '']
  if (server !== undefined) lines.push(server.note, '')
  lines.push(...renderScan(report.stats), '', ...table(['figure', 'value'], [
    ['last start', report.last_start === undefined
      ? 'none in the last 24 h'
      : `${when(report.last_start.time)} UTC, version ${String(report.last_start.version)}`],
    ['last shutdown',
      report.last_shutdown === undefined ? 'none in the last 24 h' : `${when(report.last_shutdown)} UTC`],
    ['state', healthState(report, server?.answered === true)],
    ['alerts left firing', report.alerts_firing.length === 0
      ? 'none'
      : report.alerts_firing.map(alert => `${alert.alert} (${alert.severity}) since ${when(alert.since)}`).join(', ')],
    ['last hour', `${report.last_hour.requests} requests, ${report.last_hour.errors} errors, ` +
      `${report.last_hour.slow_statements} slow statements, ${report.last_hour.shed_requests} shed`],
    ['last error', report.last_error === undefined
      ? 'none in the last 24 h'
      : `${when(report.last_error.time)} UTC: ${report.last_error.msg.slice(0, 100)}`]
  ], format))
  return lines.join('\n') + '\n'
}
