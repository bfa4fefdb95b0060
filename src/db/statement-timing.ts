// Times every statement and reports the slow ones, on both engines and inside transactions,
// so "the bot was slow" can be traced to the query that was.
import type { Logger } from 'pino'
import { log } from '../logging/log-context.js'
import type { Database, Queryable } from './database.js'

/** The statement as a log may show it: whitespace folded and cut short (parameters are never included). */
export const statementSummary = (sql: string): string => sql.replace(/\s+/g, ' ').trim().slice(0, 200)

function timed (queryable: Queryable, slowMs: number, logger: Logger | undefined): Queryable {
  const measure = async <T>(sql: string, run: () => Promise<T>, rows: (result: T) => number | undefined): Promise<T> => {
    const started = performance.now()
    const result = await run()
    const ms = performance.now() - started
    if (ms >= slowMs) log('database', 'query', logger).warn({ statement: statementSummary(sql), duration_ms: Math.round(ms), rows: rows(result), threshold_ms: slowMs }, 'slow statement')
    return result
  }
  return {
    query: (sql, params) => measure(sql, () => queryable.query(sql, params), result => result.rowCount),
    exec: (sql) => measure(sql, () => queryable.exec(sql), () => undefined)
  }
}

/** The same database, with statements slower than slowMs logged at warn (on `logger` outside a request). */
export function withStatementTiming (db: Database, slowMs: number, logger?: Logger): Database {
  return {
    ...db,
    ...timed(db, slowMs, logger),
    transaction: (fn) => db.transaction(tx => fn(timed(tx, slowMs, logger)))
  }
}
