// Slow statements are logged and observed on both engines, the COMMIT of a transaction included:
// a commit that waits (on a real server for a WAL flush) holds the transaction's row locks, and
// must show as itself, not only as the statements stuck behind it.
import t from 'tap'
import { pino } from 'pino'
import { context, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { withStatementTiming } from '../../../src/db/statement-timing.js'
import type { Database, StatementOptions } from '../../../src/db/database.js'
import { engines, openTestPGlite } from '../../helper.js'

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const exported = new InMemorySpanExporter()
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exported)] }))

/** The database on the test's clock: `SELECT 70` takes 70 ms, every other statement none. */
function onClock (raw: Database, clock: { ms: number }): Database {
  return {
    ...raw,
    query: async <R>(sql: string, params?: unknown[], statement?: StatementOptions) => {
      const result = await raw.query<R>(sql, params, statement)
      if (sql === 'SELECT 70') clock.ms += 70
      return result
    }
  }
}

for (const engine of engines()) {
  t.test(`${engine.name}: slow statements and slow commits are logged and observed`, async t => {
    const raw = await engine.open(t)
    await raw.exec('CREATE TABLE commit_probe (id int)')
    // The time is the test's: the commit takes 100 ms (as a WAL flush can), the statements none,
    // and `SELECT 70` takes 70 ms. What is measured is the real engine's order of events.
    const clock = { ms: 0 }
    const slow: Database = {
      ...onClock(raw, clock),
      transaction: async fn => await raw.transaction(async tx => {
        const value = await fn(tx)
        clock.ms += 100
        return value
      })
    }
    const lines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
    const observed: Array<{ sql: string, ms: number }> = []
    const observer = { completed: (sql: string, ms: number) => observed.push({ sql, ms }), failed: () => {} }
    const db = withStatementTiming(slow, { slowMs: 60, logger, spanMs: 0, observer, now: () => clock.ms })

    await db.transaction(async tx => { await tx.query('INSERT INTO commit_probe VALUES (1)') })
    t.same(observed, [{ sql: 'INSERT INTO commit_probe VALUES (1)', ms: 0 }, { sql: 'COMMIT', ms: 100 }], 'the commit is observed with its own time, apart from the INSERT')
    t.match(lines, [{ msg: 'slow statement', module: 'database', statement: 'COMMIT', duration_ms: 100, threshold_ms: 60 }], 'and logged as the slow statement, alone')
    t.same((await raw.query('SELECT id FROM commit_probe')).rows, [{ id: 1 }], 'committed')

    await db.query('SELECT 70')
    t.equal(lines.length, 2)
    t.match(lines[1], { msg: 'slow statement', statement: 'SELECT 70', duration_ms: 70 }, 'a slow statement outside a transaction too')
  })
}

t.test('a statement is a span of the work that ran it when it took spanMs or more, or failed', async t => {
  const raw = await openTestPGlite(t)
  const clock = { ms: 1000 }
  const timedRaw = onClock(raw, clock)
  const db = withStatementTiming(timedRaw, { slowMs: 1000, spanMs: 50, now: () => clock.ms })
  exported.reset()
  const parent = trace.getTracer('test').startSpan('chat.turn')
  await context.with(trace.setSpan(context.active(), parent), async () => {
    await db.query('SELECT 1')
    await db.query('SELECT 70')
    await t.rejects(db.query('SELECT * FROM no_such_table'))
  })
  parent.end()
  const statements = exported.getFinishedSpans().filter(span => span.name !== 'chat.turn')
  t.same(statements.map(span => span.name), ['SELECT', 'SELECT no_such_table'], 'the slow statement and the failed one, not the fast one')
  const [slow, failed] = statements
  t.equal(slow?.parentSpanContext?.spanId, parent.spanContext().spanId, 'a span of the work that ran it')
  t.match(slow?.attributes, { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT 70' })
  t.equal(slow!.duration[0] * 1000 + slow!.duration[1] / 1e6, 70, 'spanning the statement\'s own time')
  t.equal(failed?.status.code, SpanStatusCode.ERROR, 'a failure marks its span')
  t.equal(failed?.events[0]?.name, 'exception')

  exported.reset()
  const every = withStatementTiming(timedRaw, { slowMs: 1000, spanMs: 0, now: () => clock.ms })
  await every.query('SELECT 1')
  t.same(exported.getFinishedSpans().map(span => span.name), ['SELECT'], 'spanMs 0: every statement')
})
