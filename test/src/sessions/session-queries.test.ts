// The sessions read across users: how many were opened in a period (its start in, its end out), the
// user ids that have one, and which of some ids name a session; on every engine.
import t from 'tap'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import { existingSessionIds, knownUserIds, sessionsStarted } from '../../../src/sessions/session-queries.js'
import { SessionManager } from '../../../src/sessions/session-manager.js'
import { engines, manualClock } from '../../helper.js'

const MINUTE = 60_000
const T0 = new Date('2026-01-15T10:00:00Z')
const at = (ms: number) => new Date(T0.getTime() + ms)
const UNKNOWN = '99999999-9999-4999-8999-999999999999'

for (const engine of engines()) {
  t.test(`${engine.name}: sessions started, known users and existing ids`, async t => {
    const db = await engine.open(t)
    const clock = manualClock(at(-1))
    const limits = { idleTimeoutMs: 24 * 60 * MINUTE, maxAgeMs: 24 * 60 * MINUTE, maxActive: 100, maxPerUser: 100 }
    const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits })
    const create = (userId: string | null) => sessions.transaction((tx, audit) => sessions.create(tx, userId, audit))

    t.equal(await sessionsStarted(db, { from: at(0), to: at(60 * MINUTE) }), 0, 'none yet')
    t.same(await knownUserIds(db), [])
    t.same(await existingSessionIds(db, [UNKNOWN]), new Set())

    const before = await create('u1') // 1 ms before the period
    clock.advance(1)
    const first = await create('u2') // at its start: counted
    clock.advance(30 * MINUTE)
    const anonymous = await create(null)
    const again = await create('u1')
    clock.advance(30 * MINUTE - 1)
    const last = await create('u3') // 1 ms before its end: counted
    clock.advance(1)
    const after = await create('u4') // at its end: not counted

    t.equal(await sessionsStarted(db, { from: at(0), to: at(60 * MINUTE) }), 4, 'from its start, up to and excluding its end')
    t.equal(await sessionsStarted(db, { from: at(-1), to: at(60 * MINUTE + 1) }), 6, 'widened by a millisecond each side')
    t.equal(await sessionsStarted(db, { from: at(30 * MINUTE), to: at(30 * MINUTE + 1) }), 2, 'two opened in the same millisecond')
    t.equal(await sessionsStarted(db, { from: at(60 * MINUTE), to: at(0) }), 0, 'a period that ends before it starts')

    t.same((await knownUserIds(db)).sort(), ['u1', 'u2', 'u3', 'u4'], 'each user once, and no null for the session without a user')

    const all = [before, first, anonymous, again, last, after].map(session => session.id)
    t.same(await existingSessionIds(db, []), new Set(), 'no ids asked about')
    t.same(await existingSessionIds(db, [first.id, UNKNOWN, anonymous.id]), new Set([first.id, anonymous.id]), 'the unknown id left out')
    t.same(await existingSessionIds(db, [...all, ...all]), new Set(all), 'every session, each once')

    await sessions.transaction(async tx => await sessions.deleteSessions(tx, [after.id]))
    t.same(await existingSessionIds(db, [after.id, last.id]), new Set([last.id]), 'a deleted session no longer exists')
    t.same((await knownUserIds(db)).sort(), ['u1', 'u2', 'u3'], 'nor does the user whose only session it was')
    t.equal(await sessionsStarted(db, { from: at(-1), to: at(60 * MINUTE + 1) }), 5)
  })
}
