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
    const tableBytes = async (): Promise<number> =>
      (await db.query<{ bytes: number }>("SELECT pg_relation_size('sessions')::int AS bytes")).rows[0]!.bytes
    // Each rewrite of a row, as a turn's, leaves its old version and new index entries behind.
    const rewrites = async (count: number): Promise<void> => {
      for (let n = 0; n < count; n++) await db.query('UPDATE sessions SET turn_count = turn_count + 1, last_activity_at = now()')
    }
    const kept: number[] = []
    for (let round = 0; round < 3; round++) {
      await rewrites(200)
      t.equal(await vacuumEmbedded(db), true, 'vacuumed')
      kept.push(await tableBytes())
    }
    await rewrites(600)
    // Where a row's new version lands, and so which pages a vacuum can cut off the end, varies
    // from run to run by a page or two: what is compared is growth, vacuumed against not.
    const grownWithout = await tableBytes() - kept[2]!
    t.ok(grownWithout >= 4 * 8192, `without it, 6,000 rewrites grow the table by ${grownWithout} bytes`)
    const grownVacuumed = kept[2]! - kept[0]!
    t.ok(grownVacuumed <= grownWithout / 3,
      `vacuumed after every 2,000, 4,000 rewrites grow it by ${grownVacuumed} bytes (${kept.join(', ')})`)
  })
}
