// The pseudonyms' key kept in the database when LOG_ID_SECRET is not set: made once, whoever asks
// first and however many ask at once, never replaced, and not made at all when the key is set.
import t from 'tap'
import { LogPrivacy } from '../../../src/logging/log-privacy.js'
import { keptPseudonymKey, usePseudonymKey } from '../../../src/privacy/pseudonym-key.js'
import type { Queryable } from '../../../src/db/database.js'
import { engines } from '../../helper.js'

const keptRows = async (db: Queryable): Promise<unknown[]> =>
  (await db.query("SELECT value FROM app_state WHERE key = 'log_id_secret'")).rows

const privacy = (): LogPrivacy => new LogPrivacy({ userIdMode: 'hashed', idSecret: '', chatContent: 'off' })

for (const engine of engines()) {
  t.test(`${engine.name}: made once, 32 random bytes, then read back as it is`, async t => {
    const db = await engine.open(t)
    t.same(await keptRows(db), [], 'none before it is asked for')
    const key = await keptPseudonymKey(db)
    t.match(key, /^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url')
    t.equal(Buffer.from(key, 'base64url').length, 32)
    t.equal(await keptPseudonymKey(db), key, 'asked again: the same')
    t.same(await keptRows(db), [{ value: key }], 'one row, a JSON string')
  })

  t.test(`${engine.name}: a key already kept is never replaced`, async t => {
    const db = await engine.open(t)
    await db.query("INSERT INTO app_state (key, value) VALUES ('log_id_secret', to_jsonb('kept-by-another-instance'::text))")
    t.equal(await keptPseudonymKey(db), 'kept-by-another-instance')
    t.same(await keptRows(db), [{ value: 'kept-by-another-instance' }])
  })

  t.test(`${engine.name}: many asking at once, and inside a transaction, all get the one key`, async t => {
    const db = await engine.open(t)
    const keys = await Promise.all([
      ...Array.from({ length: 8 }, async () => await keptPseudonymKey(db)),
      db.transaction(async tx => await keptPseudonymKey(tx))
    ])
    t.equal(new Set(keys).size, 1, `one key: ${keys[0]}`)
    t.equal((await keptRows(db)).length, 1)
  })

  t.test(`${engine.name}: usePseudonymKey gives the kept key to privacy, unless LOG_ID_SECRET is set`, async t => {
    const db = await engine.open(t)
    const configured = privacy()
    await usePseudonymKey(db, configured, { LOG_ID_SECRET: 'operator-key' })
    t.same(await keptRows(db), [], 'with LOG_ID_SECRET set, no key is made in the database')
    t.notOk(configured.stablePseudonyms, 'nor given: the key privacy holds is the one it was made with')

    const first = privacy()
    const second = privacy()
    t.not(first.pseudonym('customer-42'), second.pseudonym('customer-42'), 'before: a random key each')
    await usePseudonymKey(db, first, { LOG_ID_SECRET: '' })
    await usePseudonymKey(db, second, { LOG_ID_SECRET: '' })
    t.ok(first.stablePseudonyms)
    t.equal(first.pseudonym('customer-42'), second.pseudonym('customer-42'), 'after: one pseudonym on every instance')
    const kept = new LogPrivacy({ userIdMode: 'hashed', idSecret: await keptPseudonymKey(db), chatContent: 'off' })
    t.equal(first.pseudonym('customer-42'), kept.pseudonym('customer-42'), 'made with the kept key')
    t.not(first.pseudonym('customer-42'), new LogPrivacy({ userIdMode: 'hashed', idSecret: 'operator-key', chatContent: 'off' }).pseudonym('customer-42'))
  })
}
