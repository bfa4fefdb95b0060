// Slow statements are logged and observed on both engines, the COMMIT of a transaction included:
// a commit that waits (on a real server for a WAL flush) holds the transaction's row locks, and
// must show as itself, not only as the statements stuck behind it.
import t from 'tap'
import { pino } from 'pino'
import { withStatementTiming } from '../../../src/db/statement-timing.js'
import type { Database, StatementOptions } from '../../../src/db/database.js'
import { engines } from '../../helper.js'

for (const engine of engines()) {
  t.test(`${engine.name}: slow statements and slow commits are logged and observed`, async t => {
    const raw = await engine.open(t)
    await raw.exec('CREATE TABLE commit_probe (id int)')
    // The time is the test's: the commit takes 100 ms (as a WAL flush can), the statements none,
    // and `SELECT 70` takes 70 ms. What is measured is the real engine's order of events.
    let clock = 0
    const slow: Database = {
      ...raw,
      query: async <R>(sql: string, params?: unknown[], statement?: StatementOptions) => {
        const result = await raw.query<R>(sql, params, statement)
        if (sql === 'SELECT 70') clock += 70
        return result
      },
      transaction: async fn => await raw.transaction(async tx => {
        const value = await fn(tx)
        clock += 100
        return value
      })
    }
    const lines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
    const observed: Array<{ sql: string, ms: number }> = []
    const observer = { completed: (sql: string, ms: number) => observed.push({ sql, ms }), failed: () => {} }
    const db = withStatementTiming(slow, { slowMs: 60, logger, spans: false, observer, now: () => clock })

    await db.transaction(async tx => { await tx.query('INSERT INTO commit_probe VALUES (1)') })
    t.same(observed, [{ sql: 'INSERT INTO commit_probe VALUES (1)', ms: 0 }, { sql: 'COMMIT', ms: 100 }], 'the commit is observed with its own time, apart from the INSERT')
    t.match(lines, [{ msg: 'slow statement', module: 'database', statement: 'COMMIT', duration_ms: 100, threshold_ms: 60 }], 'and logged as the slow statement, alone')
    t.same((await raw.query('SELECT id FROM commit_probe')).rows, [{ id: 1 }], 'committed')

    await db.query('SELECT 70')
    t.equal(lines.length, 2)
    t.match(lines[1], { msg: 'slow statement', statement: 'SELECT 70', duration_ms: 70 }, 'a slow statement outside a transaction too')
  })
}
