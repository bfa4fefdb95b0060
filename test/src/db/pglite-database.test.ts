// The embedded database through the app's one interface: row counts as the app reads them,
// transactions, NOTIFY, a data folder owned until close (made if missing, refused to a second
// opener, let go on a failed start), what it keeps across a reopen, and a template archive.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { DataDirLockedError, LOCK_FILE } from '../../../src/db/data-dir-lock.js'
import type { Queryable } from '../../../src/db/database.js'
import { openPGliteDatabase } from '../../../src/db/pglite-database.js'
import { tempDir, waitFor } from '../../helper.js'

// initdb costs seconds: one database is made from scratch here, the others start from its archive.
let archive: Promise<Blob> | undefined
const template = async (): Promise<Blob> => await (archive ??= (async () => {
  const source = await openPGliteDatabase('memory://')
  await source.exec('CREATE TABLE seeded (n int); INSERT INTO seeded VALUES (41), (42)')
  const dump = await source.dumpDataDir()
  await source.close()
  return dump
})())

t.test('in memory: rows and row counts, scripts, transactions and notifications', async t => {
  const db = await openPGliteDatabase('memory://', await template())
  t.teardown(() => db.close())
  t.equal(db.engine, 'pglite')
  t.same((await db.query("SELECT setting FROM pg_settings WHERE name = 'fsync'")).rows, [{ setting: 'off' }], 'in memory, fsync stays off: nothing to flush')
  await db.exec('CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, \'a\'), (2, \'b\'), (3, \'c\')')
  const selected = await db.query<{ id: number, body: string }>('SELECT id, body FROM notes WHERE id > $1 ORDER BY id', [1])
  t.same(selected, { rows: [{ id: 2, body: 'b' }, { id: 3, body: 'c' }], rowCount: 2 }, 'a SELECT counts its rows, as pg does')
  t.same(await db.query('UPDATE notes SET body = $1 WHERE id <= $2', ['z', 2]), { rows: [], rowCount: 2 }, 'an UPDATE counts the rows it changed')
  t.same(await db.query('DELETE FROM notes WHERE id = 99'), { rows: [], rowCount: 0 })
  t.same(await db.query('INSERT INTO notes VALUES (4, $1) RETURNING id', ['d']), { rows: [{ id: 4 }], rowCount: 1 })

  const total = await db.transaction(async tx => {
    await tx.query('INSERT INTO notes VALUES (5, $1)', ['e'])
    await tx.exec('INSERT INTO notes VALUES (6, \'f\')')
    return (await tx.query<{ count: number }>('SELECT count(*)::int AS count FROM notes')).rows[0]?.count
  })
  t.equal(total, 6, 'a transaction resolves to what its function returns')
  await t.rejects(db.transaction(async tx => {
    await tx.query('DELETE FROM notes')
    throw new Error('changed my mind')
  }), { message: 'changed my mind' })
  t.same((await db.query('SELECT count(*)::int AS count FROM notes')).rows, [{ count: 6 }], 'rolled back when it throws')
  await t.rejects(db.query('INSERT INTO notes VALUES (1, \'dup\')'), { code: '23505' }, 'PostgreSQL\'s errors come through with their SQLSTATE')

  const heard: string[] = []
  const unlisten = await db.listen('kb_changed', payload => heard.push(payload))
  await db.query("SELECT pg_notify('kb_changed', 'doc-1')")
  await db.query("SELECT pg_notify('other_channel', 'not for us')")
  t.ok(await waitFor(() => heard.length === 1), 'notified')
  t.same(heard, ['doc-1'])
  await unlisten()
  await db.query("SELECT pg_notify('kb_changed', 'doc-2')")
  await db.query('SELECT 1')
  t.same(heard, ['doc-1'], 'nothing after unlistening')
})

t.test('on disk: the folder is made and owned until close, and what was committed is there on reopening', async t => {
  const dir = join(await tempDir(t), 'nested', 'data')
  const db = await openPGliteDatabase(dir)
  let open = true
  t.teardown(async () => { if (open) await db.close() })
  t.ok(existsSync(join(dir, 'PG_VERSION')), 'initdb ran in the folder it made')
  t.ok(existsSync(join(dir, LOCK_FILE)), 'locked')
  const second = await openPGliteDatabase(dir).then(other => other, (error: unknown) => error)
  t.ok(second instanceof DataDirLockedError, 'a second opener, even in this process, is refused')
  t.match((second as Error).message, new RegExp(`is in use by process ${process.pid} `))
  await db.exec('CREATE TABLE kept (value text); INSERT INTO kept VALUES (\'committed\')')
  await db.close()
  open = false
  t.notOk(existsSync(join(dir, LOCK_FILE)), 'close lets go of the folder')
  const reopened = await openPGliteDatabase(dir)
  t.teardown(() => reopened.close())
  t.same((await reopened.query('SELECT value FROM kept')).rows, [{ value: 'committed' }])
  t.same((await reopened.query("SELECT setting FROM pg_settings WHERE name IN ('fsync', 'wal_sync_method') ORDER BY name")).rows,
    [{ setting: 'on' }, { setting: 'fsync' }], 'on disk, PostgreSQL runs with fsync on, flushing its WAL with fsync()')
})

t.test('a template archive starts a database with its contents, in memory or on disk', async t => {
  const dump = await template()
  t.ok(dump.size > 0)
  const fromTemplate = await openPGliteDatabase('memory://', dump)
  t.teardown(() => fromTemplate.close())
  t.same((await fromTemplate.query('SELECT n FROM seeded ORDER BY n')).rows, [{ n: 41 }, { n: 42 }])
  await fromTemplate.query('INSERT INTO seeded VALUES (43)')
  const again = await openPGliteDatabase('memory://', dump)
  t.teardown(() => again.close())
  t.same((await again.query('SELECT count(*)::int AS count FROM seeded')).rows, [{ count: 2 }], 'each start from the template is its own copy')
  const dir = join(await tempDir(t), 'data')
  const onDisk = await openPGliteDatabase(dir, dump)
  t.teardown(() => onDisk.close())
  t.same((await onDisk.query('SELECT count(*)::int AS count FROM seeded')).rows, [{ count: 2 }])
})

t.test('a start that fails lets go of the folder', async t => {
  const dir = join(await tempDir(t), 'data')
  const failed = await openPGliteDatabase(dir, new Blob([Buffer.from('not a data directory archive')])).then(() => undefined, (error: unknown) => error)
  t.ok(failed instanceof Error, `the start failed: ${String(failed)}`)
  t.notOk(existsSync(join(dir, LOCK_FILE)), 'no lock left behind')
  const db = await openPGliteDatabase(dir, await template())
  t.teardown(() => db.close())
  t.same((await db.query('SELECT count(*)::int AS count FROM seeded')).rows, [{ count: 2 }], 'the folder can be opened afterwards')
})

// A named statement (the turn's: StatementOptions.name) is parsed once per PGlite instance and run
// by name: what it returns, where it may fail, and how its name outlives schema changes but not
// the instance.
const executions = async (db: Queryable, name: string): Promise<number | undefined> =>
  (await db.query<{ runs: number }>(
    'SELECT (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE name = $1', [name])).rows[0]?.runs

t.test('a named statement is parsed once and run by name, turn after turn, as an unnamed one would run', async t => {
  const db = await openPGliteDatabase('memory://', await template())
  t.teardown(() => db.close())
  await db.exec('CREATE TABLE turns (id int PRIMARY KEY, at timestamptz, body jsonb, note text, score float8)')
  const insert = 'INSERT INTO turns (id, at, body, note, score) VALUES ($1, $2, $3, $4, $5) RETURNING id, at, body, note, score'
  const at = new Date('2026-11-25T10:00:00.123Z')
  for (let id = 1; id <= 300; id++) {
    const { rows, rowCount } = await db.query(insert, [id, at, { id, sources: ['a'] }, id % 2 === 0 ? null : `n${id}`, id / 4], { name: 'test_insert' })
    if (id === 1) t.same(rows, [{ id: 1, at, body: { id: 1, sources: ['a'] }, note: 'n1', score: 0.25 }], 'parameters typed and rows parsed by type')
    if (rowCount !== 1) t.fail(`turn ${id}: rowCount ${rowCount}`)
  }
  t.equal(await executions(db, 'test_insert'), 300, 'one prepared statement, run 300 times')
  const select = 'SELECT id, at, body, note, score FROM turns WHERE id = ANY($1::int[]) ORDER BY id'
  const named = await db.query(select, [[2, 3, 999]], { name: 'test_select' })
  t.same(named, await db.query(select, [[2, 3, 999]]), 'the same rows and count as unnamed, arrays and nulls too')
  t.same(await db.query(select, [[]], { name: 'test_select' }), { rows: [], rowCount: 0 }, 'no rows')
  t.same(await db.query('UPDATE turns SET note = $1 WHERE id <= $2', ['x', 10], { name: 'test_update' }), { rows: [], rowCount: 10 }, 'a write without RETURNING counts what it changed')
  await t.rejects(db.query('SELECT $1::int AS other', [1], { name: 'test_select' }), /already used by another statement text/, 'one name, one text')
  t.same((await db.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map(row => row.name),
    ['test_insert', 'test_select', 'test_update'])
})

t.test('a named statement that fails in a transaction rolls it back, and its name still works', async t => {
  const db = await openPGliteDatabase('memory://', await template())
  t.teardown(() => db.close())
  await db.exec('CREATE TABLE notes (id int PRIMARY KEY, body text)')
  const insert = 'INSERT INTO notes (id, body) VALUES ($1, $2)'
  await db.query(insert, [1, 'a'], { name: 'test_note' })
  await t.rejects(db.transaction(async tx => {
    await tx.query(insert, [2, 'b'], { name: 'test_note' })
    await tx.query(insert, [1, 'again'], { name: 'test_note' })
  }), { code: '23505' }, 'the unique violation comes through with its SQLSTATE')
  t.same((await db.query('SELECT id, body FROM notes ORDER BY id')).rows, [{ id: 1, body: 'a' }], 'the transaction\'s first row was rolled back')
  await t.rejects(db.query(insert, [1, 'dup'], { name: 'test_note' }), { code: '23505' }, 'and alone')
  const kept = await db.transaction(async tx => {
    await tx.query(insert, [2, 'b'], { name: 'test_note' })
    return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM notes', [], { name: 'test_count' })).rows[0]?.n
  })
  t.equal(kept, 2, 'the name runs in the next transaction, which commits')
  t.same((await db.query('SELECT id FROM notes ORDER BY id')).rows, [{ id: 1 }, { id: 2 }])
  t.equal(await executions(db, 'test_note'), 5, 'parsed once: every run, failed or not, by name')

  // Statements queued behind a transaction: PGlite's locks order them as they order query().
  const results = await Promise.all([
    ...Array.from({ length: 20 }, async (_, i) => (await db.query<{ n: number }>('SELECT $1::int AS n', [i], { name: 'test_echo' })).rows[0]?.n),
    db.transaction(async tx => { await tx.query(insert, [3, 'c'], { name: 'test_note' }); return -1 })
  ])
  t.same(results, [...Array.from({ length: 20 }, (_, i) => i), -1], 'twenty first runs at once: one parse, twenty runs')
  t.equal(await executions(db, 'test_echo'), 20)
})

t.test('a named statement whose first parse fails is parsed again; one a schema change touched is re-planned', async t => {
  const db = await openPGliteDatabase('memory://', await template())
  t.teardown(() => db.close())
  const select = 'SELECT id, body FROM later WHERE id = $1'
  await t.rejects(db.query(select, [1], { name: 'test_later' }), { code: '42P01' }, 'its table is not there yet')
  await t.rejects(db.transaction(async tx => await tx.query(select, [1], { name: 'test_later' })), { code: '42P01' }, 'nor in a transaction')
  await db.exec('CREATE TABLE later (id int PRIMARY KEY, body text); INSERT INTO later VALUES (1, \'one\')')
  t.same((await db.query(select, [1], { name: 'test_later' })).rows, [{ id: 1, body: 'one' }], 'parsed once its table is')
  await db.exec('ALTER TABLE later ADD COLUMN extra int DEFAULT 7; CREATE INDEX later_body ON later (body)')
  t.same((await db.query(select, [1], { name: 'test_later' })).rows, [{ id: 1, body: 'one' }], 'a column added: re-planned by PostgreSQL')
  t.equal(await executions(db, 'test_later'), 2, 'under the same prepared statement')
  await db.exec('ALTER TABLE later ALTER COLUMN body TYPE varchar(10)')
  t.same((await db.query(select, [1], { name: 'test_later' })).rows, [{ id: 1, body: 'one' }], 'its row\'s type changed: parsed again and run')
  t.equal(await executions(db, 'test_later'), 1, 'a new prepared statement under the name')
  await db.exec('DEALLOCATE ALL')
  t.same((await db.query(select, [1], { name: 'test_later' })).rows, [{ id: 1, body: 'one' }], 'forgotten by the backend: parsed again and run')
  await db.exec('DEALLOCATE ALL')
  await t.rejects(db.transaction(async tx => await tx.query(select, [1], { name: 'test_later' })), { code: '26000' }, 'in a transaction it fails (the transaction is aborted)…')
  t.same((await db.transaction(async tx => await tx.query(select, [1], { name: 'test_later' }))).rows, [{ id: 1, body: 'one' }], '…and is parsed again at its next run')
})

t.test('a reopened database starts with no names, and parses them again', async t => {
  const dir = join(await tempDir(t), 'data')
  const select = 'SELECT n FROM seeded WHERE n > $1 ORDER BY n'
  let db = await openPGliteDatabase(dir, await template())
  for (const n of [40, 41]) await db.query(select, [n], { name: 'test_seeded' })
  t.equal(await executions(db, 'test_seeded'), 2)
  await db.close()
  db = await openPGliteDatabase(dir)
  t.equal(await executions(db, 'test_seeded'), undefined, 'a new instance: the backend has no such name')
  t.same((await db.query(select, [40], { name: 'test_seeded' })).rows, [{ n: 41 }, { n: 42 }], 'parsed on this instance at its first run')
  t.equal(await executions(db, 'test_seeded'), 1)
  await db.close()
  await t.rejects(db.query(select, [40], { name: 'test_seeded' }), /closed/, 'a closed database refuses it as it refuses any statement')
})

t.test('on disk: tables and indexes that grow, shrink and grow again are read whole, then and on reopening', async t => {
  // The file lengths the database keeps instead of asking the disk at every seek must follow every
  // extension (or a new row overwrites a page) and every truncation (or a scan reads past the end).
  const dir = join(await tempDir(t), 'data')
  let db = await openPGliteDatabase(dir, await template())
  t.teardown(() => db.close())
  const figures = async (): Promise<unknown> => (await db.query(`
    SELECT count(*)::int AS rows, sum(id)::int AS ids, count(DISTINCT pad)::int AS pads,
      (SELECT count(*)::int FROM grown WHERE pad = 'pad-7') AS found_by_index FROM grown`)).rows[0]
  const fill = (from: number, to: number): string =>
    `INSERT INTO grown SELECT n, 'pad-' || (n % 100), repeat('x', 300) FROM generate_series(${from}, ${to}) n`
  await db.exec(`CREATE TABLE grown (id int PRIMARY KEY, pad text, filler text);
    CREATE INDEX grown_pad ON grown (pad); ${fill(1, 4000)}`)
  t.same(await figures(), { rows: 4000, ids: 8_002_000, pads: 100, found_by_index: 40 }, 'grown')
  const bytes = async (): Promise<number> =>
    (await db.query<{ size: number }>("SELECT pg_relation_size('grown')::int AS size")).rows[0]!.size
  const grownBytes = await bytes()
  await db.exec('DELETE FROM grown WHERE id > 1000')
  await db.exec('VACUUM grown')
  t.ok(await bytes() < grownBytes / 2, 'VACUUM cut the table\'s file short')
  t.same(await figures(), { rows: 1000, ids: 500_500, pads: 100, found_by_index: 10 }, 'shrunk')
  await db.exec(fill(5001, 7000))
  t.same(await figures(), { rows: 3000, ids: 12_501_500, pads: 100, found_by_index: 30 }, 'grown again after the cut')
  await db.exec(`TRUNCATE grown; ${fill(1, 500)}`)
  const last = { rows: 500, ids: 125_250, pads: 100, found_by_index: 5 }
  t.same(await figures(), last, 'emptied into new files, and filled')
  await db.exec('CHECKPOINT')
  await db.close()
  db = await openPGliteDatabase(dir)
  t.same(await figures(), last, 'the same on reopening, read from the files')
})
