import t from 'tap'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CHECKPOINT_TIMEOUT_S, CHECKPOINT_WAL_BYTES, checkpointEmbedded, vacuumEmbedded } from '../../../src/db/embedded-upkeep.js'
import { openPGliteDatabase } from '../../../src/db/pglite-database.js'
import { isSegmentName } from '../../../src/db/wal-reserve.js'
import { engines, eventLoopTurnsDuring, migratedDataDir } from '../../helper.js'

for (const engine of engines()) {
  t.test(`${engine.name}: the upkeep reclaims what updates and deletes leave behind`, async t => {
    const db = await engine.open(t)
    if (engine.name === 'postgres') {
      const untouched = async (): Promise<never> => { throw new Error('autovacuum\'s work on a server') }
      t.equal(await vacuumEmbedded({ engine: db.engine, exec: untouched, query: untouched }), false, 'a server is left to autovacuum')
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

  if (engine.name === 'pglite') {
    t.test('pglite: every table, the catalogs too, in a statement of its own, other work let run in between', async t => {
      const db = await engine.open(t)
      // PostgreSQL's own count of each table's vacuums (its statistics, flushed first).
      const vacuumCounts = async (): Promise<Map<string, number>> => {
        await db.query('SELECT pg_stat_force_next_flush()')
        const { rows } = await db.query<{ name: string, n: number }>(
          "SELECT relid::regclass::text AS name, vacuum_count::int AS n FROM pg_stat_all_tables WHERE relid IN (SELECT oid FROM pg_class WHERE relkind = 'r')")
        return new Map(rows.map(({ name, n }) => [name, n]))
      }
      const before = await vacuumCounts()
      const vacuumed: string[] = []
      const counting = { ...db, exec: async (sql: string) => { vacuumed.push(sql); await db.exec(sql) } }
      const { result, turns: ticks } = await eventLoopTurnsDuring(async () => await vacuumEmbedded(counting))
      t.equal(result, true)
      const { rows } = await db.query<{ name: string }>(
        "SELECT oid::regclass::text AS name FROM pg_class WHERE relkind IN ('r', 'm') ORDER BY oid")
      t.same(vacuumed, rows.map(({ name }) => `VACUUM ${name}`), 'one VACUUM a table')
      t.ok(vacuumed.includes('VACUUM pg_class') && vacuumed.includes('VACUUM pg_database'), 'the catalogs, shared ones too')
      t.ok(vacuumed.includes('VACUUM sessions') && vacuumed.includes('VACUUM messages'), 'the app\'s tables')
      t.ok(ticks >= vacuumed.length, `the event loop ran ${ticks} times over ${vacuumed.length} tables`)
      const after = await vacuumCounts()
      t.ok(after.size > 80, `${after.size} tables counted`)
      t.same([...after].filter(([name, n]) => n !== (before.get(name) ?? 0) + 1), [], 'PostgreSQL counts one more vacuum of each')
    })
  }
}

t.test('server PostgreSQL is left to its checkpointer', async t => {
  const untouched = async (): Promise<never> => { throw new Error('the checkpointer\'s work on a server') }
  t.equal(await checkpointEmbedded({ engine: 'postgres', exec: untouched, query: untouched }), undefined)
})

t.test('pglite: a checkpoint once the log has grown by a segment, or five minutes after a write; the segments before it let go', async t => {
  const dataDir = await migratedDataDir(t)
  const db = await openPGliteDatabase(dataDir)
  t.teardown(() => db.close())
  const control = async () => (await db.query<{ redo: string, segment: string, since_redo: number }>(
    `SELECT redo_lsn::text AS redo, redo_wal_file AS segment,
       (pg_current_wal_insert_lsn() - redo_lsn)::float8 AS since_redo FROM pg_control_checkpoint()`)).rows[0]!
  const segments = async (): Promise<string[]> => (await readdir(join(dataDir, 'pg_wal'))).filter(isSegmentName)
  const minutesOn = (minutes: number): Date => new Date(Date.now() + minutes * 60_000)

  t.equal(await checkpointEmbedded(db, minutesOn(10)), undefined, 'a folder just opened has written nothing since its checkpoint')
  // Rows that do not compress, until the log holds a segment's worth since the checkpoint.
  await db.exec('CREATE TABLE filler (body text)')
  const before = await control()
  while ((await control()).since_redo < CHECKPOINT_WAL_BYTES) {
    await db.exec('INSERT INTO filler SELECT md5(random()::text) || md5(random()::text) FROM generate_series(1, 20000)')
  }
  t.ok((await segments()).includes(before.segment), 'the log still holds the segment of the checkpoint before')
  const checkpointed = await checkpointEmbedded(db)
  t.ok(checkpointed !== undefined && checkpointed.walBytes >= CHECKPOINT_WAL_BYTES, `checkpointed after ${checkpointed?.walBytes} bytes of log`)
  const after = await control()
  t.not(after.redo, before.redo, 'PostgreSQL recovers from the new checkpoint')
  t.same((await segments()).filter(name => name < after.segment), [], 'no segment before the new checkpoint\'s is kept under its name')

  t.equal(await checkpointEmbedded(db, minutesOn(10)), undefined, 'nothing written since: no checkpoint, however long after')
  await db.query('INSERT INTO filler VALUES ($1)', ['one turn\'s worth'])
  t.equal(await checkpointEmbedded(db, minutesOn(CHECKPOINT_TIMEOUT_S / 60 - 1)), undefined, 'a small write, before the timeout')
  const timedOut = await checkpointEmbedded(db, minutesOn(CHECKPOINT_TIMEOUT_S / 60 + 1))
  t.ok(timedOut !== undefined && timedOut.walBytes < CHECKPOINT_WAL_BYTES, 'the same write, after the timeout')
  t.not((await control()).redo, after.redo, 'PostgreSQL recovers from that one')
})
