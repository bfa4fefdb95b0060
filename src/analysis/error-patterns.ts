// "Which errors are new or growing?": error lines grouped by fingerprint, this period against the
// one before it of the same length, with the modules and routes they hit and ids to jump to.
import { createHash } from 'node:crypto'
import Type, { type Static } from 'typebox'
import { normaliseMessage } from '../logging/error-fingerprint.js'
import { emptyStats, previousPeriod, scanLogs, type Period, type ScanStats } from './log-scan.js'

export const TRENDS = ['new', 'growing', 'shrinking', 'steady'] as const
export type Trend = typeof TRENDS[number]

const ids = (what: string) => Type.Array(Type.String(), { maxItems: 3, description: `Up to three ${what} to look up` })
export const ErrorPatternSchema = Type.Object({
  fingerprint: Type.String(),
  type: Type.String(),
  message: Type.String({ description: 'Normalised: ids, numbers and personal data replaced' }),
  count: Type.Integer(),
  previous_count: Type.Integer({ description: 'In the period before, of the same length' }),
  trend: Type.Enum(TRENDS),
  first_seen: Type.String(),
  last_seen: Type.String(),
  modules: Type.Array(Type.String()),
  routes: Type.Array(Type.String()),
  sample_trace_ids: ids('trace ids'),
  sample_session_ids: ids('session ids'),
  sample_request_ids: ids('request ids')
})
export type ErrorPattern = Static<typeof ErrorPatternSchema>

export interface ErrorReport {
  period: Period
  previous: Period
  patterns: ErrorPattern[]
  total: number
  previous_total: number
  stats: ScanStats
}

const SAMPLES = 3
// req_ids remembered to find the routes of errors: enough for a bad week, bounded all the same.
const MAX_TRACKED_REQUESTS = 100_000
const ERROR_LINE = /^\{"level":"(error|fatal)"/

export function trendOf (count: number, previous: number): Trend {
  if (previous === 0) return 'new'
  const ratio = count / previous
  return ratio >= 1.5 ? 'growing' : ratio <= 2 / 3 ? 'shrinking' : 'steady'
}

const addSample = (list: string[], value: unknown): void => {
  if (typeof value === 'string' && list.length < SAMPLES && !list.includes(value)) list.push(value)
}

export async function analyzeErrors (options: {
  dir: string
  period: Period
  onProgress?: (done: number, total: number) => void
}): Promise<ErrorReport> {
  const { period } = options
  const previous = previousPeriod(period)
  const stats = emptyStats()
  const patterns = new Map<string, ErrorPattern>()
  const previousCounts = new Map<string, number>()
  const requests = new Map<string, ErrorPattern>()
  const from = period.from.toISOString()

  // Errors come from error.log, kept longest; chatbot.log is read only for the routes of their requests.
  const errors = scanLogs({
    dir: options.dir,
    families: ['error'],
    period: { from: previous.from, to: period.to },
    wanted: line => ERROR_LINE.test(line),
    onProgress: options.onProgress
  }, stats)
  for await (const entry of errors) {
    const message = typeof entry.error_message === 'string' ? entry.error_message : normaliseMessage(entry.msg)
    const type = typeof entry.error_type === 'string' ? entry.error_type : 'logged error'
    const module = typeof entry.module === 'string' ? entry.module : 'unknown'
    const fingerprint = typeof entry.fingerprint === 'string'
      ? entry.fingerprint
      : createHash('sha256').update(`${module}\n${message}`).digest('hex').slice(0, 16)
    if (entry.time < from) {
      previousCounts.set(fingerprint, (previousCounts.get(fingerprint) ?? 0) + 1)
      continue
    }
    let pattern = patterns.get(fingerprint)
    if (pattern === undefined) {
      pattern = {
        fingerprint,
        type,
        message,
        count: 0,
        previous_count: 0,
        trend: 'new',
        first_seen: entry.time,
        last_seen: entry.time,
        modules: [],
        routes: [],
        sample_trace_ids: [],
        sample_session_ids: [],
        sample_request_ids: []
      }
      patterns.set(fingerprint, pattern)
    }
    pattern.count++
    if (entry.time < pattern.first_seen) pattern.first_seen = entry.time
    if (entry.time > pattern.last_seen) pattern.last_seen = entry.time
    if (!pattern.modules.includes(module)) pattern.modules.push(module)
    addSample(pattern.sample_trace_ids, entry.trace_id)
    addSample(pattern.sample_session_ids, entry.session_id)
    addSample(pattern.sample_request_ids, entry.req_id)
    if (typeof entry.req_id === 'string' && requests.size < MAX_TRACKED_REQUESTS) requests.set(entry.req_id, pattern)
  }

  if (requests.size > 0) {
    const completions = scanLogs({
      dir: options.dir,
      families: ['chatbot'],
      period,
      wanted: line => line.includes('"msg":"request completed"')
    }, stats)
    for await (const entry of completions) {
      const pattern = typeof entry.req_id === 'string' ? requests.get(entry.req_id) : undefined
      if (pattern !== undefined && typeof entry.route === 'string' && !pattern.routes.includes(entry.route)) {
        pattern.routes.push(entry.route)
      }
    }
  }

  for (const pattern of patterns.values()) {
    pattern.previous_count = previousCounts.get(pattern.fingerprint) ?? 0
    pattern.trend = trendOf(pattern.count, pattern.previous_count)
  }
  const sorted = [...patterns.values()].sort((a, b) => b.count - a.count || a.first_seen.localeCompare(b.first_seen))
  return {
    period,
    previous,
    patterns: sorted,
    total: sorted.reduce((sum, pattern) => sum + pattern.count, 0),
    previous_total: [...previousCounts.values()].reduce((sum, count) => sum + count, 0),
    stats
  }
}
