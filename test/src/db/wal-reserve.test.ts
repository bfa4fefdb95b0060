// The embedded database's next write-ahead log segment, made ahead off the main thread: its name,
// that it is there before PostgreSQL needs it and that PostgreSQL uses it, and that a process
// stopped midway leaves nothing behind.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { openPGliteDatabase } from '../../../src/db/pglite-database.js'
import { segmentAfter } from '../../../src/db/wal-reserve.js'
import { tempDir, waitFor } from '../../helper.js'

const MB = 1 << 20

t.test('the segment after another: the low part wraps into the high one', async t => {
  t.equal(segmentAfter('000000010000000000000001', 1, 16 * MB), '000000010000000000000002')
  t.equal(segmentAfter('000000010000000000000001', 2, 16 * MB), '000000010000000000000003')
  t.equal(segmentAfter('0000000100000000000000FE', 2, 16 * MB), '000000010000000100000000', '256 segments of 16 MB a high part')
  t.equal(segmentAfter('00000002000000030000003F', 1, 64 * MB), '000000020000000400000000', '64 of 64 MB; the timeline kept')
})

t.test('on disk: the next segment is made before PostgreSQL reaches it, and it writes into it', async t => {
  const dir = join(await tempDir(t), 'data')
  const walDir = join(dir, 'pg_wal')
  const db = await openPGliteDatabase(dir)
  t.teardown(() => db.close())
  const segments = async (): Promise<string[]> => (await readdir(walDir)).filter(name => /^[0-9A-F]{24}$/.test(name)).sort()
  const current = async (): Promise<string> =>
    (await db.query<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS name')).rows[0]!.name
  // Enough rows to fill more than a segment of the log.
  const fill = async (): Promise<void> => {
    await db.query("INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 20000)")
  }
  await db.exec('CREATE TABLE filler (body text)')
  await fill()
  const at = await current()
  const ahead = [segmentAfter(at, 1, 16 * MB)]
  t.ok(await waitFor(async () => (await segments()).includes(ahead[0]!)), `at ${at}, the next segment was made`)
  t.same((await segments()).slice(-1), ahead, 'and no further')
  for (const name of ahead) {
    const file = await readFile(join(walDir, name))
    t.equal(file.length, 16 * MB, `${name} is a whole segment`)
    t.ok(file.every(byte => byte === 0), `${name} is zeros, as PostgreSQL makes one`)
  }
  const made = (await stat(join(walDir, ahead[0]!))).ino
  t.same((await readdir(walDir)).filter(name => name.startsWith('parley-')), [], 'nothing left half-made')

  await fill()
  t.ok(await current() >= ahead[0]!, 'the log moved on into the segment made ahead')
  t.equal((await stat(join(walDir, ahead[0]!))).ino, made, 'PostgreSQL used the file made for it, not one of its own')
  const written = await readFile(join(walDir, ahead[0]!))
  t.ok(written.some(byte => byte !== 0), 'and wrote the log into it')
  t.same((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM filler')).rows, [{ n: 40_000 }])
})

t.test('a segment half-made by a process that stopped is removed when the folder is opened again', async t => {
  const dir = join(await tempDir(t), 'data')
  const first = await openPGliteDatabase(dir)
  await first.exec('CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)')
  await first.close()
  const leftover = join(dir, 'pg_wal', 'parley-next-segment.5d0c1a2e')
  await writeFile(leftover, Buffer.alloc(MB))
  const db = await openPGliteDatabase(dir)
  t.teardown(() => db.close())
  t.same((await readdir(join(dir, 'pg_wal'))).filter(name => name.startsWith('parley-')), [], 'removed')
  t.same((await db.query('SELECT n FROM kept')).rows, [{ n: 7 }], 'and the database is whole')
})
