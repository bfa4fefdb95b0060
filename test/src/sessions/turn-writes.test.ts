// Turns written as they end: alone while the database keeps up, together when writes are in flight,
// each settled by its own write, on both engines.
import t from 'tap'
import pino from 'pino'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import type { Queryable } from '../../../src/db/database.js'
import { withStatementTiming } from '../../../src/db/statement-timing.js'
import { NotFoundError } from '../../../src/errors.js'
import { measureTurnParts, runWithLogger } from '../../../src/logging/log-context.js'
import { SessionManager, type TurnMessages } from '../../../src/sessions/session-manager.js'
import { TurnWrites } from '../../../src/sessions/turn-writes.js'
import { engines } from '../../helper.js'

const MINUTE = 60_000
const TURN: TurnMessages = { userText: 'hi', reply: 'hello', kind: 'command', command: 'help', sources: [], topScore: null, latencyMs: 1 }

for (const engine of engines()) {
  t.test(`turn writes on ${engine.name}`, async t => {
    const raw = await engine.open(t)
    const db = withStatementTiming(raw, { slowMs: 60_000, spanMs: 60_000 })
    const sessions = new SessionManager({ db, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
    const open = async (): Promise<string> => (await sessions.transaction((tx, audit) => sessions.create(tx, null, audit))).id
    // The statements sent, by name; each runs on the real database.
    const sent: string[] = []
    let failBatches = false
    const watched: Queryable = {
      ...db,
      query: async (sql, params, options) => {
        if (options?.name !== undefined) sent.push(options.name)
        if (failBatches && options?.name === 'record_turns') throw new Error('the batch failed')
        return await db.query(sql, params, options)
      }
    }
    const writes = new TurnWrites({ sessionManager: sessions, db: watched, writesInFlight: 1 })
    const turnsOf = async (id: string): Promise<number[]> => (await raw.query<{ turn: number }>(
      "SELECT turn FROM messages WHERE session_id = $1 AND role = 'bot' ORDER BY turn", [id])).rows.map(row => row.turn)

    await t.test('one at a time, each turn is a statement of its own', async t => {
      const id = await open()
      t.equal(await writes.record(id, TURN), 1)
      t.equal(await writes.record(id, TURN), 2)
      t.same(sent.splice(0), ['record_turn', 'record_turn'])
    })

    await t.test('turns that end while a write is in flight go together, each with its number', async t => {
      const ids = await Promise.all(Array.from({ length: 6 }, open))
      const numbers = await Promise.all(ids.map(async id => await writes.record(id, TURN)))
      t.same(numbers, [1, 1, 1, 1, 1, 1])
      t.same(sent.splice(0), ['record_turn', 'record_turns'], 'the first alone, the five that waited in one statement')
      for (const id of ids) t.same(await turnsOf(id), [1])
    })

    await t.test('a session\'s turns are never in one statement, and keep their order', async t => {
      const [busy, other] = [await open(), await open()]
      const numbers = await Promise.all([writes.record(other, TURN), writes.record(busy, TURN), writes.record(busy, TURN), writes.record(busy, TURN)])
      t.same(numbers, [1, 1, 2, 3])
      t.same(await turnsOf(busy), [1, 2, 3])
      t.same(sent.splice(0), ['record_turn', 'record_turn', 'record_turn', 'record_turn'], 'the three waited for each other')
    })

    await t.test('a turn of a session that ended fails alone', async t => {
      const [first, ended, last] = [await open(), await open(), await open()]
      await sessions.transaction(async tx => { await sessions.end(tx, ended, 'reset') })
      const results = await Promise.allSettled([first, ended, last].map(async id => await writes.record(id, TURN)))
      t.match(results, [{ status: 'fulfilled', value: 1 }, { status: 'rejected', reason: NotFoundError }, { status: 'fulfilled', value: 1 }])
      t.same(await turnsOf(ended), [], 'nothing of it stored')
      sent.splice(0)
    })

    await t.test('a statement that fails for all is retried turn by turn', async t => {
      failBatches = true
      t.teardown(() => { failBatches = false })
      const ids = await Promise.all(Array.from({ length: 4 }, open))
      t.same(await Promise.all(ids.map(async id => await writes.record(id, TURN))), [1, 1, 1, 1])
      t.same(sent.splice(0), ['record_turn', 'record_turns', 'record_turn', 'record_turn', 'record_turn'])
    })

    await t.test('each turn of a shared statement counts its time as its database time', async t => {
      const ids = await Promise.all(Array.from({ length: 3 }, open))
      const parts = await Promise.all(ids.map(async id => await runWithLogger(pino({ level: 'silent' }), async () => {
        const measured = measureTurnParts()!
        await writes.record(id, TURN)
        return measured.database_ms
      })))
      t.same(sent.splice(0), ['record_turn', 'record_turns'])
      for (const ms of parts) t.ok(ms > 0, `${ms} ms`)
    })
  })
}
