import t from 'tap'
import { NotFoundError } from '../../../src/errors.js'
import { SessionManager, type TurnMessages } from '../../../src/sessions/session-manager.js'
import { engines, manualClock } from '../../helper.js'
import { AuditTrail } from '../../../src/audit/audit-trail.js'

const MINUTE = 60_000
const TURN: TurnMessages = { userText: 'hi', reply: 'hello', kind: 'command', command: 'help', sources: [], topScore: null, latencyMs: 1 }

for (const engine of engines()) {
  t.test(`session manager on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const clock = manualClock()
    const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
    const create = (userId: string | null) => sessions.transaction((tx, audit) => sessions.create(tx, userId, audit))

    const kept = await create('u1')
    t.match(kept, { userId: 'u1', status: 'active', turnCount: 0, expiresAt: new Date(clock.now().getTime() + 30 * MINUTE) })
    const idle = await create(null)

    // Keep one session busy for 55 minutes while the other idles.
    for (let i = 0; i < 11; i++) {
      clock.advance(5 * MINUTE)
      await sessions.recordTurn(db, kept.id, TURN)
    }
    await t.rejects(sessions.resume(idle.id, null), NotFoundError, 'idle for 55 minutes')
    t.match(await sessions.resume(kept.id, 'u1'), { turnCount: 11, expiresAt: new Date(kept.createdAt.getTime() + 60 * MINUTE) }, 'the absolute age now bounds expiry')
    t.equal(await sessions.countActive(), 1)
    t.equal(await sessions.expireIdle(), 1)
    t.match(await sessions.get(idle.id), { status: 'expired', endedAt: clock.now() })

    clock.advance(5 * MINUTE)
    await t.rejects(sessions.recordTurn(db, kept.id, TURN), NotFoundError, 'an hour old, though active')
    t.equal(await sessions.expireIdle(), 1)
    t.equal(await sessions.countActive(), 0)
    t.equal(await sessions.delete(kept.id, 'tester'), true)
    t.equal(await sessions.get(kept.id), undefined)
  })
}
