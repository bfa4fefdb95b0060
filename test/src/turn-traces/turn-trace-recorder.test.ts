// The recorder on both engines: halves joined by trace id, written in batches of one INSERT, a late
// half merged into its row, the queue bounded and what is lost counted by reason, old rows deleted,
// and what is queued written on close. Time is a clock the test moves: nothing waits on a timer.
import t from 'tap'
import type { Counter } from '@opentelemetry/api'
import type { Database, Queryable } from '../../../src/db/database.js'
import { HOLD_MS, TurnTraceRecorder, type TurnRequestHalf, type TurnSpanHalf } from '../../../src/turn-traces/turn-trace-recorder.js'
import type { TurnSpan } from '../../../src/turn-traces/turn-trace.js'
import { engines, eventLoopTurnsDuring, genericPlan, manualClock } from '../../helper.js'

const SESSION = '52c16b89-9200-4a05-9159-9deabba9423a'
const PARTS = { admission_ms: 1.5, database_ms: 4.25, search_ms: 0.75, model_ms: 0 }
const line = (traceId: string, msg: string): string => `${JSON.stringify({ level: 'info', msg, trace_id: traceId, text: 'a "quoted" line' })}\n`

function requestHalf (key: string, overrides: Partial<TurnRequestHalf> = {}): TurnRequestHalf {
  return { key, traced: true, sessionId: SESSION, turn: 2, statusCode: 200, startedAt: new Date('2026-01-15T10:00:00.010Z'), durationMs: 12.5, logs: [line(key, 'chat.reply_sent'), line(key, 'request completed')], error: null, parts: PARTS, ...overrides }
}

function spanHalf (traceId: string, overrides: Partial<TurnSpanHalf> = {}): TurnSpanHalf {
  const span: TurnSpan = { span_id: '1'.repeat(16), name: 'POST /v1/chat', kind: 'server', start_ms: 0, duration_ms: 13, status: 'unset', attributes: { 'http.response.status_code': 200 } }
  return { traceId, spans: () => [span, { ...span, span_id: '2'.repeat(16), parent_span_id: span.span_id, name: 'chat.turn', kind: 'internal', start_ms: 1, duration_ms: 10 }], startedAt: new Date('2026-01-15T10:00:00.000Z'), durationMs: 13, statusCode: 200, sessionId: SESSION, turn: 2, ...overrides }
}

interface Insert { sql: string, params: unknown[], name?: string }

/** The database, keeping the statements that write turn_traces, with the name each ran under. */
function counting (db: Database): Queryable & { inserts: Insert[], names: () => Array<string | undefined> } {
  const inserts: Insert[] = []
  return {
    inserts,
    names: () => inserts.map(insert => insert.name),
    query: async (sql, params = [], options) => {
      if (sql.includes('INSERT INTO turn_traces')) inserts.push({ sql, params, name: options?.name })
      return await db.query(sql, params, options)
    },
    exec: async sql => await db.exec(sql)
  }
}

function recordingCounter () {
  const added: Record<string, number> = {}
  const counter = { add: (value: number, attributes?: { reason?: string }) => { added[attributes!.reason!] = (added[attributes!.reason!] ?? 0) + value } }
  return { added, counter: counter as unknown as Counter }
}

interface Row { trace_id: string, session_id: string | null, turn: number | null, status: string, status_code: number, started_at: Date, duration_ms: number, parts: unknown, let_go: string | null, spans: TurnSpan[], logs: Array<Record<string, unknown>>, error: string | null }
const rows = async (db: Queryable): Promise<Row[]> => (await db.query<Row>('SELECT * FROM turn_traces ORDER BY trace_id')).rows

for (const engine of engines()) {
  t.test(engine.name, async t => {
    const db = await engine.open(t)
    const setUp = (options: Partial<ConstructorParameters<typeof TurnTraceRecorder>[0]> = {}) => {
      const clock = manualClock()
      const writes = counting(db)
      const { added, counter } = recordingCounter()
      const recorder = new TurnTraceRecorder({ db: writes, maxQueue: 2000, retentionDays: 7, now: clock.now, droppedCounter: counter, ...options })
      return { clock, writes, added, recorder }
    }
    t.beforeEach(async () => { await db.exec('DELETE FROM turn_traces; DELETE FROM erased_sessions; DELETE FROM erased_users') })

    await t.test('both halves make one complete row, written at once', async t => {
      const { recorder, writes } = setUp()
      recorder.addSpans(spanHalf('a'.repeat(32)))
      recorder.addRequest(requestHalf('a'.repeat(32)))
      await recorder.flush()
      t.equal(writes.inserts.length, 1)
      const [row] = await rows(db)
      t.match(row, { trace_id: 'a'.repeat(32), session_id: SESSION, turn: 2, status: 'ok', status_code: 200, duration_ms: 13, error: null })
      t.equal(row!.started_at.toISOString(), '2026-01-15T10:00:00.000Z', 'the server span\'s start')
      t.same(row!.spans.map(span => span.name), ['POST /v1/chat', 'chat.turn'])
      t.same(row!.logs, [JSON.parse(line('a'.repeat(32), 'chat.reply_sent')), JSON.parse(line('a'.repeat(32), 'request completed'))], 'the lines as written')
      t.equal(recorder.kept(), 1)
    })

    await t.test('the log lines are stored exactly as they were written', async t => {
      const { recorder } = setUp()
      const key = 'c'.repeat(32)
      const written = [`{"level":"info","msg":"chat.reply_sent","trace_id":"${key}","z":1,"a":2}\n`, line(key, 'request completed')]
      recorder.addSpans(spanHalf(key))
      recorder.addRequest(requestHalf(key, { logs: written }))
      await recorder.flush()
      const { rows: [stored] } = await db.query<{ logs: string }>('SELECT logs::text AS logs FROM turn_traces')
      t.equal(stored!.logs, `[${written.join(',')}]`, 'their fields in their order, as in the log files')
    })

    await t.test('a turn let go under pressure: its row has its duration and parts, its spans and lines are held until kept', async t => {
      const { recorder, added, clock } = setUp()
      const [before, after, untraced, late] = ['1', '2', '3', '4'].map(c => c.repeat(32)) as [string, string, string, string]
      recorder.addSpans(spanHalf(before))
      recorder.addRequest(requestHalf(before, { letGo: 'pressure' }))
      recorder.addRequest(requestHalf(after, { letGo: 'pressure' }))
      recorder.addSpans(spanHalf(after))
      recorder.addRequest(requestHalf(untraced, { traced: false, letGo: 'pressure' }))
      recorder.addRequest(requestHalf(late, { letGo: 'pressure' }))
      await recorder.flush()
      const compact = await rows(db)
      t.equal(compact.length, 4, 'every turn has its row at once')
      for (const row of compact) t.match(row, { duration_ms: 12.5, parts: PARTS, let_go: 'pressure', spans: [], logs: [] })
      t.equal(recorder.heldCount(), 4)
      t.equal(recorder.dropped().pressure, 0, 'held: not lost yet')

      t.ok(recorder.keep(before), 'rated down: what was held is written')
      t.ok(recorder.keep(after))
      clock.advance(HOLD_MS)
      await recorder.flush()
      t.notOk(recorder.keep(late), 'past the hold, nothing is left to keep')
      t.equal(recorder.heldCount(), 0, 'what was held past the hold is let go')
      t.equal(recorder.dropped().pressure, 2, 'and counted lost')
      t.equal(added.pressure, 2, 'in chatbot_turn_traces_dropped_total{reason="pressure"}')
      const byId = new Map((await rows(db)).map(row => [row.trace_id, row]))
      for (const kept of [before, after]) {
        t.match(byId.get(kept), { let_go: null, parts: PARTS }, 'kept: no longer let go')
        t.same(byId.get(kept)!.spans.map(span => span.name), ['POST /v1/chat', 'chat.turn'], 'with the spans, whichever half came first')
        t.equal(byId.get(kept)!.logs.length, 2, 'and the lines')
      }
      t.match(byId.get(late), { let_go: 'pressure', spans: [], logs: [] })
      t.equal(recorder.kept(), 4, 'a kept turn merges into its row: no new record')
    })

    await t.test('at the cap, each turn let go evicts the oldest held, counted lost', async t => {
      const { recorder, added } = setUp({ maxHeld: 3 })
      const traceIds = ['a', 'b', 'c', 'd', 'e'].map(c => c.repeat(32))
      for (const traceId of traceIds) {
        recorder.addSpans(spanHalf(traceId))
        recorder.addRequest(requestHalf(traceId, { letGo: 'pressure' }))
      }
      t.equal(recorder.heldCount(), 3)
      t.equal(recorder.dropped().pressure, 2)
      t.equal(added.pressure, 2)
      t.same(traceIds.map(traceId => recorder.keep(traceId)), [false, false, true, true, true], 'the two oldest are gone')
      await recorder.flush()
      t.equal(recorder.dropped().pressure, 2, 'kept turns are not counted lost')
    })

    await t.test('at close, what is still held is counted lost', async t => {
      const { recorder } = setUp()
      recorder.addRequest(requestHalf('f'.repeat(32), { traced: false, letGo: 'pressure' }))
      await recorder.close()
      t.equal(recorder.heldCount(), 0)
      t.equal(recorder.dropped().pressure, 1)
    })

    // Held as the SDK made them, thousands of turns' spans outlived the young generation (the recorder's hold()).
    await t.test('a held turn\'s spans are made its row\'s JSON once, as they are held, whichever half came first', async t => {
      const { recorder } = setUp()
      const [spansFirst, requestFirst] = ['5', '6'].map(c => c.repeat(32)) as [string, string]
      const converted: string[] = []
      const counted = (traceId: string): TurnSpanHalf => {
        const half = spanHalf(traceId)
        return { ...half, spans: () => { converted.push(traceId); return half.spans() } }
      }
      recorder.addSpans(counted(spansFirst))
      recorder.addRequest(requestHalf(spansFirst, { letGo: 'pressure' }))
      recorder.addRequest(requestHalf(requestFirst, { letGo: 'pressure' }))
      recorder.addSpans(counted(requestFirst))
      t.same(converted, [spansFirst, requestFirst], 'each once, as it is held')
      await recorder.flush()
      t.ok(recorder.keep(spansFirst) && recorder.keep(requestFirst))
      await recorder.flush()
      t.same(converted, [spansFirst, requestFirst], 'not again when kept')
      const byId = new Map((await rows(db)).map(row => [row.trace_id, row]))
      for (const traceId of [spansFirst, requestFirst]) {
        t.match(byId.get(traceId), { let_go: null, error: null }, 'kept')
        t.same(byId.get(traceId)!.spans.map(span => span.name), ['POST /v1/chat', 'chat.turn'], 'with its spans')
        t.equal(byId.get(traceId)!.logs.length, 2, 'and its lines')
      }
    })

    await t.test('a half waits out its grace, is written alone, and its late other half merges into the row', async t => {
      const { recorder, clock } = setUp()
      recorder.addRequest(requestHalf('b'.repeat(32)))
      recorder.addSpans(spanHalf('c'.repeat(32), { statusCode: undefined, turn: undefined }))
      await recorder.flush()
      t.equal((await rows(db)).length, 0, 'within the grace: waiting for the other half')
      clock.advance(2000)
      await recorder.flush()
      const [requestOnly, spansOnly] = await rows(db)
      t.match(requestOnly, { session_id: SESSION, turn: 2, status_code: 200, spans: [] })
      t.equal(requestOnly!.logs.length, 2)
      t.match(spansOnly, { session_id: SESSION, turn: null, status_code: 0, logs: [] })
      t.equal(spansOnly!.spans.length, 2)

      recorder.addSpans(spanHalf('b'.repeat(32)))
      recorder.addRequest(requestHalf('c'.repeat(32), { turn: 5, statusCode: 503, startedAt: new Date('2026-01-15T10:00:00.020Z'), durationMs: 40, error: 'the database does not answer' }))
      clock.advance(2000)
      await recorder.flush()
      const [b, c] = await rows(db)
      t.equal(b!.spans.length, 2, 'late spans fill in the row')
      t.equal(b!.logs.length, 2, 'and keep its lines')
      t.equal(b!.started_at.toISOString(), '2026-01-15T10:00:00.000Z', 'which starts with the earliest of the two')
      t.match(c, { turn: 5, status: 'error', status_code: 503, error: 'the database does not answer', duration_ms: 40 })
      t.equal(c!.spans.length, 2, 'a late request half keeps the spans')
      t.equal(recorder.kept(), 2, 'a merge is no new record')
    })

    await t.test('an untraced request needs no other half; a bad session id is stored as none', async t => {
      const { recorder } = setUp()
      recorder.addRequest(requestHalf('req-1', { traced: false, sessionId: 'not-a-uuid\'); DROP TABLE turn_traces; --' }))
      await recorder.flush()
      t.match(await rows(db), [{ trace_id: 'req-1', session_id: null, spans: [] }])
    })

    await t.test('batches: one INSERT for up to batchSize records', async t => {
      const { recorder, writes } = setUp({ batchSize: 100 })
      for (let i = 0; i < 250; i++) recorder.addRequest(requestHalf(`req-${String(i).padStart(3, '0')}`, { traced: false }))
      await recorder.flush()
      t.equal(writes.inserts.length, 3)
      t.equal((await rows(db)).length, 250)
      t.equal(recorder.kept(), 250)
      t.same(writes.names(), ['turn_traces_upsert_100', 'turn_traces_upsert_100', undefined], 'a full batch runs as a named statement')
    })

    await t.test('a full batch merges late halves into their rows, as any batch does', async t => {
      const { recorder, writes } = setUp({ batchSize: 3 })
      const keys = ['f1', 'f2', 'f3'].map(key => key.padEnd(32, '0'))
      for (const key of keys) recorder.addRequest(requestHalf(key, { traced: false }))
      await recorder.flush()
      for (const key of keys) recorder.addSpans(spanHalf(key, { durationMs: 20 }))
      await recorder.flush({ all: true })
      t.same(writes.names(), ['turn_traces_upsert_3', 'turn_traces_upsert_3'], 'both batches run under the one name')
      const stored = await rows(db)
      t.same(stored.map(row => [row.trace_id, row.spans.length, row.logs.length, row.duration_ms]), keys.map(key => [key, 2, 2, 20]))
      t.equal(recorder.kept(), 3, 'the merged halves are not counted again')
    })

    await t.test('a full batch looks each row\'s erasure up by key, whatever the plan was made on', async t => {
      // The named statement's plan is made once per connection, here on empty tables never analysed.
      // A batch of the size the server writes: the planner weighs a join by the rows it brings.
      const { recorder, writes } = setUp({ batchSize: 100 })
      for (let i = 0; i < 100; i++) recorder.addRequest(requestHalf(`g${i}`, { traced: false, userPseudonym: `pseudonym-${i}` }))
      await recorder.flush()
      const [named] = writes.inserts
      t.ok(named?.name, 'the batch ran as a named statement')
      const plan = await genericPlan(db, named!.sql, named!.params)
      t.match(plan, /using erased_sessions_pkey on erased_sessions/, 'an erased session is looked up by its id')
      t.match(plan, /using erased_users_pkey on erased_users/, 'an erased user by the pseudonym')
      t.notMatch(plan, /Seq Scan on erased_|Hash/, 'neither table is read whole')
    })

    await t.test('the queue is bounded: what does not fit is dropped and counted', async t => {
      const { recorder, added } = setUp({ maxQueue: 3 })
      for (let i = 0; i < 5; i++) recorder.addRequest(requestHalf(`d${i}`))
      recorder.addSpans(spanHalf('d0'))
      t.equal(recorder.queued(), 3, 'the other half of a queued record still joins it')
      await recorder.flush({ all: true })
      t.equal((await rows(db)).length, 3)
      t.equal(recorder.dropped().queue_full, 2)
      t.equal(added.queue_full, 2, 'in chatbot_turn_traces_dropped_total{reason="queue_full"}')
      t.equal(added.write_failed, 0, 'every reason starts at 0')
    })

    await t.test('a failed write is counted with its records, and the recorder goes on', async t => {
      let failing = true
      const failed: number[] = []
      const flaky: Queryable = { query: async (sql, params) => { if (failing) throw new Error('connection terminated'); return await db.query(sql, params) }, exec: async sql => await db.exec(sql) }
      const { recorder, added } = setUp({ db: flaky, onWriteFailed: (_error, records) => failed.push(records) })
      recorder.addRequest(requestHalf('e1', { traced: false }))
      recorder.addRequest(requestHalf('e2', { traced: false }))
      await recorder.flush()
      t.same(failed, [2])
      t.equal(added.write_failed, 2)
      failing = false
      recorder.addRequest(requestHalf('e3', { traced: false }))
      await recorder.flush()
      t.same((await rows(db)).map(row => row.trace_id), ['e3'])
      t.same(recorder.dropped(), { queue_full: 0, write_failed: 2, pressure: 0, open_traces: 0, spans_truncated: 0, root_never_ended: 0 })
    })

    await t.test('the span collector\'s drops are counted with the rest', async t => {
      const { recorder, added } = setUp()
      recorder.countDropped('open_traces', 1)
      t.equal(recorder.dropped().open_traces, 1)
      t.equal(added.open_traces, 1)
    })

    await t.test('a record of an erased session is written neither new nor into its row, on any instance', async t => {
      const { recorder, clock } = setUp()
      const [written, waiting] = ['5'.repeat(32), '6'.repeat(32)]
      recorder.addRequest(requestHalf(written, { traced: false }))
      await recorder.flush()
      recorder.addSpans(spanHalf(waiting))
      // The erasure, from this instance or another: the rows go, and the session is remembered.
      await db.query('DELETE FROM turn_traces WHERE session_id = $1', [SESSION])
      await db.query('INSERT INTO erased_sessions (session_id, erased_at) VALUES ($1, $2)', [SESSION, clock.now()])
      recorder.addSpans(spanHalf(written))
      recorder.addRequest(requestHalf(waiting))
      recorder.addRequest(requestHalf('7'.repeat(32), { traced: false, sessionId: '0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b' }))
      await recorder.flush({ all: true })
      t.same((await rows(db)).map(row => row.session_id), ['0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b'], 'only another session\'s turn is written')
      t.equal(recorder.kept(), 2, 'and counted kept, as the first was before the erasure')
    })

    await t.test('a turn of a user erased while it ran is not written; one they began after is', async t => {
      const { recorder } = setUp()
      const erasedAt = new Date('2026-01-15T10:00:00.005Z')
      await db.query('INSERT INTO erased_users (pseudonym, erased_at) VALUES ($1, $2)', ['u_0123456789abcdef', erasedAt])
      const other = '0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b'
      recorder.addRequest(requestHalf('8'.repeat(32), { traced: false, sessionId: other, userPseudonym: 'u_0123456789abcdef', startedAt: new Date(erasedAt.getTime() - 1) }))
      recorder.addRequest(requestHalf('9'.repeat(32), { traced: false, sessionId: other, userPseudonym: 'u_0123456789abcdef', startedAt: new Date(erasedAt.getTime() + 1) }))
      recorder.addRequest(requestHalf('a1'.repeat(16), { traced: false, sessionId: other, userPseudonym: 'u_fedcba9876543210', startedAt: new Date(erasedAt.getTime() - 1) }))
      await recorder.flush()
      const written = await rows(db)
      t.same(written.map(row => row.trace_id), ['9'.repeat(32), 'a1'.repeat(16)])
      t.same((await db.query<{ user_pseudonym: string }>('SELECT user_pseudonym FROM turn_traces ORDER BY trace_id')).rows.map(row => row.user_pseudonym), ['u_0123456789abcdef', 'u_fedcba9876543210'], 'each row names its user by pseudonym')
    })

    await t.test('forget lets go of what is waiting, ready and held of erased sessions or of an erased user', async t => {
      const { recorder } = setUp()
      const other = '0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b'
      recorder.addSpans(spanHalf('b1'.repeat(16)))
      recorder.addRequest(requestHalf('b2'.repeat(16), { traced: false }))
      recorder.addRequest(requestHalf('b3'.repeat(16), { letGo: 'pressure' }))
      recorder.addRequest(requestHalf('b4'.repeat(16), { traced: false, sessionId: other, userPseudonym: 'u_0123456789abcdef' }))
      recorder.addRequest(requestHalf('b5'.repeat(16), { traced: false, sessionId: other }))
      t.equal(recorder.heldCount(), 1)
      t.equal(recorder.forget(new Set([SESSION]), 'u_0123456789abcdef'), 5, 'three of the session, its held spans and lines, one of the user')
      t.equal(recorder.heldCount(), 0)
      t.notOk(recorder.keep('b3'.repeat(16)), 'nothing is left to keep')
      await recorder.flush({ all: true })
      t.same((await rows(db)).map(row => row.trace_id), ['b5'.repeat(16)])
    })

    await t.test('close writes every half still waiting', async t => {
      const { recorder } = setUp()
      recorder.start()
      recorder.addRequest(requestHalf('f'.repeat(32)))
      await recorder.close()
      t.equal((await rows(db)).length, 1)
    })

    await t.test('retention deletes rows older than TURN_TRACE_RETENTION_DAYS; 0 keeps none and records nothing', async t => {
      const { recorder, clock } = setUp()
      const day = 86_400_000
      for (const [key, age] of [['old', 8 * day], ['edge', 7 * day - 1000], ['new', 1000]] as const) {
        recorder.addRequest(requestHalf(key, { traced: false, startedAt: new Date(clock.now().getTime() - age) }))
      }
      await recorder.flush()
      t.equal(await recorder.deleteExpired(), 1)
      t.same((await rows(db)).map(row => row.trace_id), ['edge', 'new'])
      const off = setUp({ retentionDays: 0 })
      t.equal(off.recorder.enabled, false)
      off.recorder.addRequest(requestHalf('ignored', { traced: false }))
      t.equal(off.recorder.queued(), 0, 'nothing is recorded')
      t.equal(await off.recorder.deleteExpired(), 2, 'and nothing kept')
    })

    await t.test('retention deletes in batches, letting other work run in between', async t => {
      const { recorder, clock } = setUp()
      for (let n = 0; n < 7; n++) {
        recorder.addRequest(requestHalf(`old-${n}`, { traced: false, startedAt: new Date(clock.now().getTime() - 8 * 86_400_000) }))
      }
      recorder.addRequest(requestHalf('new', { traced: false, startedAt: clock.now() }))
      await recorder.flush()
      const { result, turns: ticks } = await eventLoopTurnsDuring(async () => await recorder.deleteExpired(3))
      t.equal(result, 7, 'every expired row, 3 at a time')
      t.ok(ticks >= 2, `the event loop ran ${ticks} times between the batches`)
      t.same((await rows(db)).map(row => row.trace_id), ['new'])
    })
  })
}
