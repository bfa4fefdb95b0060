import t from 'tap'
import { vacuumEmbedded } from '../../../src/db/embedded-upkeep.js'
import { engines } from '../../helper.js'

for (const engine of engines()) {
  t.test(`${engine.name}: the upkeep reclaims what updates and deletes leave behind`, async t => {
    const db = await engine.open(t)
    if (engine.name === 'postgres') {
      t.equal(await vacuumEmbedded({ engine: db.engine, exec: async () => { t.fail('autovacuum\'s work on a server') } }), false, 'a server is left to autovacuum')
      return
    }
    await db.exec(`INSERT INTO sessions (id, created_at, last_activity_at)
      SELECT gen_random_uuid(), now(), now() FROM generate_series(1, 10)`)
    // Dead row versions as PostgreSQL counts them (its statistics, flushed first): where a row's new
    // version lands, and so the table's size, varies by pages from run to run; the count does not.
    const deadRows = async (): Promise<number> => {
      await db.query('SELECT pg_stat_force_next_flush()')
      const { rows } = await db.query<{ dead: number }>(
        "SELECT n_dead_tup::int AS dead FROM pg_stat_user_tables WHERE relname = 'sessions'")
      return rows[0]!.dead
    }
    // Each rewrite of a row, as a turn's, leaves its old version behind.
    const rewrites = async (count: number): Promise<void> => {
      for (let n = 0; n < count; n++) await db.query('UPDATE sessions SET turn_count = turn_count + 1, last_activity_at = now()')
    }
    for (let round = 1; round <= 3; round++) {
      await rewrites(200)
      const left = await deadRows()
      t.ok(left > 0, `round ${round}: 2,000 rewrites leave ${left} dead row versions`)
      t.equal(await vacuumEmbedded(db), true, 'vacuumed')
      t.equal(await deadRows(), 0, `round ${round}: the upkeep reclaims them all`)
    }
    await rewrites(600)
    t.ok(await deadRows() > 0, 'without it, they stay')
  })
}
