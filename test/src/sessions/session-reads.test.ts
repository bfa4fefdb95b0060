// Sessions read as turns begin: alone while none is in flight, together when one is, each turn
// given its own session, on both engines.
import t from 'tap'
import pino from 'pino'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import { withStatementTiming } from '../../../src/db/statement-timing.js'
import { measureTurnParts, runWithLogger } from '../../../src/logging/log-context.js'
import { SessionManager, type Session } from '../../../src/sessions/session-manager.js'
import { SessionReads } from '../../../src/sessions/session-reads.js'
import { engines } from '../../helper.js'

const MINUTE = 60_000

for (const engine of engines()) {
  t.test(`session reads on ${engine.name}`, async t => {
    const db = withStatementTiming(await engine.open(t), { slowMs: 60_000, spanMs: 60_000 })
    const sessions = new SessionManager({ db, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
    const open = async (userId: string | null = null): Promise<string> =>
      (await sessions.transaction((tx, audit) => sessions.create(tx, userId, audit))).id
    // The statements sent, each run on the real database.
    const sent: string[] = []
    let failMany = false
    const reads = new SessionReads<Session>({
      one: async id => { sent.push('one'); return await sessions.get(id) },
      many: async ids => {
        sent.push(`many ${ids.length}`)
        if (failMany) throw new Error('the read failed')
        return await sessions.getMany(ids)
      },
      maxSessionsARead: 4
    })

    await t.test('one at a time, each read is a statement of its own', async t => {
      const [a, b] = [await open('ann'), await open('bob')]
      t.match(await reads.get(a), { id: a, userId: 'ann' })
      t.match(await reads.get(b), { id: b, userId: 'bob' })
      t.same(sent.splice(0), ['one', 'one'])
    })

    await t.test('reads asked while one is in flight go together, each given its own session', async t => {
      const ids = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map(async user => await open(user)))
      const found = await Promise.all(ids.map(async id => await reads.get(id)))
      t.same(found.map(session => session?.id), ids)
      t.same(found.map(session => session?.userId), ['a', 'b', 'c', 'd', 'e', 'f'])
      t.same(sent.splice(0), ['one', 'many 4', 'one'], 'the first alone, then at most four together')
    })

    await t.test('an unknown session, an ended one and one asked twice, read together', async t => {
      const [ended, twice] = [await open(), await open()]
      await sessions.transaction(async tx => { await sessions.end(tx, ended, 'reset') })
      const unknown = '00000000-0000-4000-8000-000000000000'
      const found = await Promise.all([twice, unknown, ended, twice.toUpperCase(), twice].map(async id => await reads.get(id)))
      t.same(found.map(session => session?.id), [twice, undefined, ended, twice, twice])
      t.equal(found[2]?.status, 'reset', 'whatever its status, as get() reads it')
      t.same(sent.splice(0), ['one', 'many 3'], 'a session asked twice is read once')
    })

    await t.test('an id that is no UUID is read alone, and fails alone', async t => {
      const id = await open()
      const results = await Promise.allSettled([reads.get(id), reads.get('not-a-uuid'), reads.get(id)])
      t.match(results, [{ status: 'fulfilled', value: { id } }, { status: 'rejected' }, { status: 'fulfilled', value: { id } }])
      t.same(sent.splice(0), ['one', 'one', 'one'])
    })

    await t.test('a read that fails, fails for each turn in it', async t => {
      failMany = true
      t.teardown(() => { failMany = false })
      const ids = await Promise.all(Array.from({ length: 3 }, async () => await open()))
      const results = await Promise.allSettled(ids.map(async id => await reads.get(id)))
      t.match(results, [{ status: 'fulfilled' }, { status: 'rejected', reason: { message: 'the read failed' } },
        { status: 'rejected', reason: { message: 'the read failed' } }])
      t.same(sent.splice(0), ['one', 'many 2'])
      t.match(await reads.get(ids[1]!), { id: ids[1] }, 'and the next read is made')
      sent.splice(0)
    })

    await t.test('each turn of a shared read counts its time as its database time', async t => {
      const ids = await Promise.all(Array.from({ length: 3 }, async () => await open()))
      const parts = await Promise.all(ids.map(async id => await runWithLogger(pino({ level: 'silent' }), async () => {
        const measured = measureTurnParts()!
        await reads.get(id)
        return measured.database_ms
      })))
      t.same(sent.splice(0), ['one', 'many 2'])
      for (const ms of parts) t.ok(ms > 0, `${ms} ms`)
    })
  })
}
