// Slow statements are logged and observed on both engines, the COMMIT of a transaction included:
// a commit that waits (here for a deferred trigger, on a real server for a WAL flush) holds the
// transaction's row locks, and must show as itself, not only as the statements stuck behind it.
import t from 'tap'
import { pino } from 'pino'
import { withStatementTiming } from '../../../src/db/statement-timing.js'
import { engines } from '../../helper.js'

for (const engine of engines()) {
  t.test(`${engine.name}: slow statements and slow commits are logged and observed`, async t => {
    const raw = await engine.open(t)
    // Runs at COMMIT, not at the INSERT: a constraint trigger deferred to the end of the transaction.
    await raw.exec(`
      CREATE TABLE commit_probe (id int);
      CREATE FUNCTION sleep_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.1); RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON commit_probe DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION sleep_at_commit();`)
    const lines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
    const observed: Array<{ sql: string, ms: number }> = []
    const db = withStatementTiming(raw, { slowMs: 60, logger, spans: false, observer: { completed: (sql, ms) => observed.push({ sql, ms }), failed: () => {} } })

    await db.transaction(async tx => { await tx.query('INSERT INTO commit_probe VALUES (1)') })
    const insert = observed.find(entry => entry.sql.startsWith('INSERT'))
    const commit = observed.find(entry => entry.sql === 'COMMIT')
    t.ok(insert !== undefined && insert.ms < 60, `the INSERT itself is quick (${insert?.ms.toFixed(1)} ms)`)
    t.ok(commit !== undefined && commit.ms >= 95, `the commit is observed with its time (${commit?.ms.toFixed(1)} ms)`)
    t.match(lines, [{ msg: 'slow statement', module: 'database', statement: 'COMMIT', duration_ms: Number, threshold_ms: 60 }], 'and logged as the slow statement, alone')

    await db.query('SELECT pg_sleep(0.07)')
    t.match(lines.at(-1), { msg: 'slow statement', statement: 'SELECT pg_sleep(0.07)' }, 'a slow statement outside a transaction too')
  })
}
