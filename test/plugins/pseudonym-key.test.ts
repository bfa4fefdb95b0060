// Users' pseudonyms outlive a restart and agree between instances without LOG_ID_SECRET: the key is
// kept in the database, with plain user ids in the logs too (an erasure names users by pseudonym).
// A key that is set is used instead.
import t from 'tap'
import { buildTestApp, openTestPGlite } from '../helper.js'

t.test('without LOG_ID_SECRET, one key in the database: the same pseudonym after a restart and on another instance', async t => {
  const database = await openTestPGlite(t)
  const first = await buildTestApp(t, {}, { database })
  await first.ready()
  const pseudonym = first.logPrivacy.userId('customer-42')
  t.match(pseudonym, /^u_[0-9a-f]{16}$/)
  t.ok(first.logPrivacy.stablePseudonyms)
  await first.close()
  const restarted = await buildTestApp(t, {}, { database })
  const other = await buildTestApp(t, {}, { database })
  await Promise.all([restarted.ready(), other.ready()])
  t.equal(restarted.logPrivacy.userId('customer-42'), pseudonym, 'after a restart')
  t.equal(other.logPrivacy.userId('customer-42'), pseudonym, 'on another instance')
  const { rows } = await database.query<{ count: number }>("SELECT count(*)::int AS count FROM app_state WHERE key = 'log_id_secret'")
  t.same(rows, [{ count: 1 }], 'made once')

  const keyed = await buildTestApp(t, { LOG_ID_SECRET: 'operator-chosen-key' }, { database })
  await keyed.ready()
  t.not(keyed.logPrivacy.userId('customer-42'), pseudonym, 'LOG_ID_SECRET, when set, is the key')
  const plain = await buildTestApp(t, { LOG_USER_ID: 'plain' }, { database })
  await plain.ready()
  t.equal(plain.logPrivacy.userId('customer-42'), 'customer-42')
  t.equal(plain.logPrivacy.pseudonym('customer-42'), pseudonym, 'the pseudonym the audit trail and an erasure use is the same with plain ids in the logs')
})
