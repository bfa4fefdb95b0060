// Times every statement and reports the slow ones, on both engines and inside transactions,
// so "the bot was slow" can be traced to the query that was. A statement that took spanMs or
// longer, or failed, becomes a client span of the work that ran it, made once it is over: a span
// for each of a turn's two fast statements cost 7 % of the turns per second with full telemetry on
// PostgreSQL (bench/README.md), while the turn's span carries their time (parley.database_ms).
// pg's instrumentation, which would make one for every statement, is off (otel/sdk.ts).
import { SpanKind } from '@opentelemetry/api'
import type { Logger } from 'pino'
import { addTurnTime, log } from '../logging/log-context.js'
import { pastSpan } from '../telemetry/spans.js'
import type { Database, Queryable } from './database.js'

/** The statement as a log may show it: whitespace folded and cut short (parameters are never included). */
export const statementSummary = (sql: string): string => sql.replace(/\s+/g, ' ').trim().slice(0, 200)

/** The semconv query summary: the operation and the first table it names ("SELECT sessions"). */
export function querySummary (sql: string): { operation: string, summary: string } {
  const operation = (/^\s*(\w+)/.exec(sql)?.[1] ?? 'QUERY').toUpperCase()
  const table = /\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\s+("?[\w.]+"?)/i.exec(sql)?.[1]
  return { operation, summary: table === undefined ? operation : `${operation} ${table.replaceAll('"', '')}` }
}

/** Told of every statement, for the latency histogram, the alerts and /status. */
export interface StatementObserver {
  completed: (sql: string, ms: number) => void
  failed: (error: unknown) => void
}

interface TimingOptions {
  slowMs: number
  logger?: Logger
  /** Statements at least this long (ms) are spans; 0: every statement. */
  spanMs: number
  observer?: StatementObserver
  /** Milliseconds from any origin (performance.now); a test's clock. */
  now?: () => number
}

// A statement's span attributes, made once per statement text: the app's statements are constants,
// and three regular expressions per statement were a measurable part of what a span costs.
const spanAttributes = new Map<string, Readonly<Record<string, string>>>()
const MAX_REMEMBERED_STATEMENTS = 1000

function statementAttributes (sql: string): Readonly<Record<string, string>> {
  let attributes = spanAttributes.get(sql)
  if (attributes === undefined) {
    const { operation, summary } = querySummary(sql)
    attributes = Object.freeze({
      'db.system.name': 'postgresql',
      'db.operation.name': operation,
      'db.query.summary': summary,
      'db.query.text': statementSummary(sql)
    })
    if (spanAttributes.size < MAX_REMEMBERED_STATEMENTS) spanAttributes.set(sql, attributes)
  }
  return attributes
}

function statementSpan (sql: string, startTime: number, endTime: number, error?: unknown): void {
  const attributes = statementAttributes(sql)
  pastSpan(attributes['db.query.summary']!, attributes, { startTime, endTime, kind: SpanKind.CLIENT, error })
}

type Timing = TimingOptions & Required<Pick<TimingOptions, 'now'>>

function timed (queryable: Queryable, options: Timing): Queryable {
  const { now } = options
  const time = async <T>(sql: string, run: () => Promise<T>, rows: (result: T) => number | undefined): Promise<T> => {
    const started = now()
    let result: T
    try {
      result = await run()
    } catch (error) {
      statementSpan(sql, started, now(), error)
      options.observer?.failed(error)
      throw error
    }
    const ended = now()
    if (ended - started >= options.spanMs) statementSpan(sql, started, ended)
    report(options, sql, ended - started, rows(result))
    return result
  }
  return {
    query: (sql, params, statement) =>
      time(sql, () => queryable.query(sql, params, statement), result => result.rowCount),
    exec: (sql) => time(sql, () => queryable.exec(sql), () => undefined)
  }
}

function report (options: TimingOptions, sql: string, ms: number, rows: number | undefined): void {
  addTurnTime('database_ms', ms)
  options.observer?.completed(sql, ms)
  if (ms >= options.slowMs) {
    log('database', 'query', options.logger).warn({
      statement: statementSummary(sql),
      duration_ms: Math.round(ms),
      rows,
      threshold_ms: options.slowMs
    }, 'slow statement')
  }
}

/**
 * The same database, with statements slower than slowMs logged at warn (on `logger` outside a
 * request), and those of spanMs or more, or failed, client spans (a transaction's COMMIT is timed
 * and logged, but not a span).
 */
export function withStatementTiming (db: Database, given: TimingOptions): Database {
  const now = given.now ?? (() => performance.now())
  const options: Timing = { ...given, now }
  return {
    ...db,
    ...timed(db, options),
    // The engine sends COMMIT once fn is done: the time from there is the commit's, which a WAL
    // flush can stretch to hundreds of milliseconds, holding the rows the transaction locked.
    transaction: async (fn) => {
      let bodyDone = 0
      const result = await db.transaction(async tx => {
        const value = await fn(timed(tx, options))
        bodyDone = now()
        return value
      })
      report(options, 'COMMIT', now() - bodyDone, undefined)
      return result
    }
  }
}
