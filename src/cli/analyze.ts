#!/usr/bin/env node
// `npm run analyze -- <errors|usage> [--from --to --dir --format text|json|md]`: answers from the
// log files alone, no monitoring stack needed. Streams every file of the period, rotated and
// gzipped ones too, in bounded memory; what it could not read is said in the report.
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import cliProgress from 'cli-progress'
import { analyzeErrors } from '../analysis/error-patterns.js'
import { LogDirectoryError, type Period, type ScanStats } from '../analysis/log-scan.js'
import { healthFromLogs, healthFromServer, lastListeningUrl, type HealthReport } from '../analysis/health-report.js'
import { analyzePerf } from '../analysis/perf-report.js'
import { renderErrors, renderHealth, renderPerf, renderUsage, type TextFormat } from '../analysis/render.js'
import { analyzeUsage } from '../analysis/usage-report.js'
import { weeklyReport } from '../analysis/weekly-report.js'
import { saveWeeklyReport, weeklyMarkdown } from '../analysis/weekly-render.js'
import { argsProblem, isEntryPoint, runAsProgram, type Io } from './entry-point.js'

const USAGE = 'Usage: npm run analyze -- <errors|usage|perf> [--from <date|7d>] [--to <date>] [--dir <log folder>] ' +
  '[--format text|json|md] [--bucket hour|day]\n' +
  '       npm run analyze -- report --weekly [--to <date>] [--dir <log folder>] [--out <folder>] [--format json]\n' +
  '       npm run analyze -- health [--url <server>] [--dir <log folder>] [--format text|json|md]\n' +
  '  errors  error patterns by fingerprint, against the period before (new, growing, shrinking)\n' +
  '  usage   turns, sessions, users, commands, answer rate, feedback, top unanswered questions\n' +
  '  perf    p50/p95/p99 by route and reply kind, per hour or day, and regressions against the period before\n' +
  "  report  the 7 whole days (UTC) before --to's day against the 7 before, as Markdown and HTML files in --out " +
  '(REPORTS_DIR, else ./reports)\n' +
  "  health  the server's GET /status (key in PARLEY_API_KEY; --url defaults to HOST:PORT if set, else where the " +
  'logs say the server last listened), else what the last day of logs tells\n' +
  '  --from and --to take an ISO date or time (UTC); --from also a span back from --to: 24h, 7d.\n' +
  '  The default period is the last 7 days; the default folder LOG_DIR, else ./logs.\n' +
  '  Exit status: 0 a report; 1 no log file found, or one unreadable or cut short (the report names it); ' +
  '2 a usage error.'

const SPAN = /^(\d+)([hd])$/

/** An ISO date or time; a bare date is midnight UTC. Undefined if it is neither. */
function parseTime (text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text)
  return Number.isNaN(date.getTime()) ? undefined : date
}

export function parsePeriod (from: string | undefined, to: string | undefined, now = new Date()): Period | string {
  const end = to === undefined ? now : parseTime(to)
  if (end === undefined) return `--to "${to}" is not an ISO date or time (2026-01-31 or 2026-01-31T12:00:00Z)`
  const span = SPAN.exec(from ?? '7d')
  const start = span !== null
    ? new Date(end.getTime() - Number(span[1]) * (span[2] === 'h' ? 3_600_000 : 86_400_000))
    : parseTime(from!)
  if (start === undefined) return `--from "${from}" is not an ISO date or time, nor a span such as 24h or 7d`
  if (start >= end) return `--from (${start.toISOString()}) must be before --to (${end.toISOString()})`
  return { from: start, to: end }
}

export async function main (
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io = process
): Promise<number> {
  const fail = (text: string): number => { io.stderr.write(`analyze: ${text}\n`); return 2 }
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        dir: { type: 'string' },
        format: { type: 'string', default: 'text' },
        bucket: { type: 'string' },
        weekly: { type: 'boolean' },
        out: { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (error) {
    return fail(`${argsProblem(error)}\n${USAGE}`)
  }
  const { values, positionals } = parsed
  if (values.help === true) { io.stdout.write(`${USAGE}\n`); return 0 }
  const command = positionals[0]
  if (command !== 'errors' && command !== 'usage' && command !== 'perf' &&
    command !== 'report' && command !== 'health') {
    return fail(`${command === undefined ? 'no command given' : `unknown command "${command}"`}\n${USAGE}`)
  }
  if (positionals.length > 1) return fail(`unexpected argument "${positionals[1]}"\n${USAGE}`)
  const format = values.format
  if (format !== 'text' && format !== 'json' && format !== 'md') {
    return fail(`--format must be text, json or md, not "${format}"`)
  }
  const bucket = values.bucket
  if (bucket !== undefined && bucket !== 'hour' && bucket !== 'day') {
    return fail(`--bucket must be hour or day, not "${bucket}"`)
  }
  const period = parsePeriod(values.from, values.to)
  if (typeof period === 'string') return fail(period)
  // npm runs scripts in the project folder; INIT_CWD is where the user typed the path.
  const dir = resolve(env.INIT_CWD ?? process.cwd(), values.dir ?? (env.LOG_DIR || './logs'))

  if (command === 'report') {
    if (values.weekly !== true) return fail(`report needs --weekly (the one report there is)\n${USAGE}`)
    if (values.from !== undefined) return fail('report --weekly covers the 7 days to --to; it takes no --from')
    const out = resolve(env.INIT_CWD ?? process.cwd(), values.out ?? (env.REPORTS_DIR || './reports'))
    return await writeWeeklyReport({ dir, out, to: period.to, json: format === 'json', io })
  }

  if (command === 'health') {
    // Unless told, the server is where it last said it listens; HOST and PORT, or their defaults, without logs.
    const told = values.url ??
      (env.HOST || env.PORT ? `http://${env.HOST || '127.0.0.1'}:${env.PORT || '3000'}` : undefined)
    const url = told ?? await lastListeningUrl(dir).catch(() => undefined) ?? 'http://127.0.0.1:3000'
    const server = await healthFromServer(url, env.PARLEY_API_KEY)
    let report: HealthReport
    try {
      report = server.status !== undefined
        ? { source: 'status', url, status: server.status }
        : await healthFromLogs(dir)
    } catch (error) {
      if (!(error instanceof LogDirectoryError)) throw error
      io.stderr.write(`analyze: ${server.refused ?? `${url} did not answer`}, and ${error.message}\n`)
      return 1
    }
    const answer = server.refused === undefined
      ? { note: `${url} did not answer.`, answered: false }
      : { note: server.refused, answered: true }
    io.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderHealth(report, format, answer))
    return 0
  }

  const bar = io.stderr.isTTY === true
    ? new cliProgress.SingleBar({
      stream: io.stderr,
      hideCursor: true,
      format: `Reading ${dir} {bar} {percentage}% | {eta_formatted} left`
    }, cliProgress.Presets.shades_classic)
    : undefined
  let started = false
  const onProgress = bar && ((done: number, total: number) => {
    if (!started) { bar.start(total, 0); started = true }
    bar.update(done)
  })
  try {
    let report: { stats: ScanStats }
    let text: (format: TextFormat) => string
    if (command === 'errors') {
      const errors = await analyzeErrors({ dir, period, onProgress })
      report = errors
      text = format => renderErrors(errors, format)
    } else if (command === 'usage') {
      const usage = await analyzeUsage({ dir, period, onProgress })
      report = usage
      text = format => renderUsage(usage, format)
    } else {
      const perf = await analyzePerf({ dir, period, bucket, onProgress })
      report = perf
      text = format => renderPerf(perf, format)
    }
    bar?.stop()
    io.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : text(format))
    // Damaged input is reported in the output and in the exit code, so a script notices too.
    const { stats } = report
    return stats.unreadableFiles.length + stats.truncatedFiles.length > 0 || stats.files === 0 ? 1 : 0
  } catch (error) {
    bar?.stop()
    if (error instanceof LogDirectoryError) { io.stderr.write(`analyze: ${error.message}\n`); return 1 }
    throw error
  }
}

async function writeWeeklyReport ({ dir, out, to, json, io }: {
  dir: string
  out: string
  to: Date
  json: boolean
  io: Io
}): Promise<number> {
  let report
  try {
    report = await weeklyReport({ dir, to })
  } catch (error) {
    if (!(error instanceof LogDirectoryError)) throw error
    io.stderr.write(`analyze: ${error.message}\n`)
    return 1
  }
  if (json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  } else {
    const files = await saveWeeklyReport(report, out)
    io.stdout.write(`${weeklyMarkdown(report)}\nWritten: ${files.markdown} and ${files.html}\n`)
  }
  const { problems } = report
  return problems.unreadableFiles.length + problems.truncatedFiles.length > 0 || problems.files === 0 ? 1 : 0
}

if (isEntryPoint(import.meta.url)) await runAsProgram(main)
