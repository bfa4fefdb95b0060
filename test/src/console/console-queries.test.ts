// What a console user filter stands for: the ids it names, by id or pseudonym, and their
// pseudonyms, on a real database's sessions.
import t from 'tap'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import { usersOf } from '../../../src/console/console-queries.js'
import { SessionManager } from '../../../src/sessions/session-manager.js'
import { engines, manualClock } from '../../helper.js'

const DAY = 86_400_000
const pseudonymOf = (userId: string): string => `p-${userId}`

for (const engine of engines()) {
  t.test(`${engine.name}: a user by id or pseudonym, with the pseudonyms of the ids found`, async t => {
    const db = await engine.open(t)
    const clock = manualClock(new Date('2026-01-15T10:00:00Z'))
    const limits = { idleTimeoutMs: DAY, maxAgeMs: DAY, maxActive: 10, maxPerUser: 10 }
    const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits })
    for (const userId of ['dave', 'erin', null]) await sessions.transaction((tx, audit) => sessions.create(tx, userId, audit))

    t.same(await usersOf(db, 'dave', pseudonymOf), { userIds: ['dave'], userPseudonyms: ['dave', 'p-dave'] }, 'by id')
    t.same(await usersOf(db, 'p-erin', pseudonymOf), { userIds: ['erin'], userPseudonyms: ['p-erin', 'p-p-erin'] },
      'by pseudonym')
    t.same(await usersOf(db, 'frank', pseudonymOf), { userIds: [], userPseudonyms: ['frank', 'p-frank'] },
      'one with no session: a failed turn may still name them by pseudonym')
    t.same(await usersOf(db, 'dave', () => undefined), { userIds: ['dave'], userPseudonyms: ['dave'] },
      'with no pseudonym key, the filter as typed')
  })
}
