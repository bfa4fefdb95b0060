// The embedded database through the app's one interface: row counts as the app reads them,
// transactions, NOTIFY, a data folder owned until close (made if missing, refused to a second
// opener, let go on a failed start), what it keeps across a reopen, and a template archive.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { DataDirLockedError, LOCK_FILE } from '../../../src/db/data-dir-lock.js'
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
