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
    t.ok(kept[2]! <= kept[0]! * 1.25, `6,000 rewrites vacuumed take the space of 2,000 (${kept.join(', ')} bytes)`)
    await rewrites(600)
    const unvacuumed = await tableBytes()
    t.ok(unvacuumed > kept[2]! * 1.25, `without it, 6,000 more grow the table (${unvacuumed} bytes)`)
  })
}
