import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { DataDirLockedError, LOCK_FILE, LOG_LOCK_FILE, lockDataDir, lockLogDir } from '../../../src/db/data-dir-lock.js'
import { tempDir } from '../../helper.js'

t.test('the lock names its owner and is gone once released', async t => {
  const dir = await tempDir(t)
  const release = await lockDataDir(dir, 'node dist/src/server.js')
  t.match(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')), { pid: process.pid, command: 'node dist/src/server.js', started_at: /^\d{4}-/ })
  await t.rejects(lockDataDir(dir), DataDirLockedError, 'a second open in the same process is refused too')
  await release()
  await t.rejects(readFile(join(dir, LOCK_FILE)), { code: 'ENOENT' })
  const again = await lockDataDir(dir)
  await again()
})

t.test('a live process\'s lock is refused with its PID and what to do', async t => {
  const dir = await tempDir(t)
  const owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'])
  t.teardown(() => { owner.kill() })
  await once(owner, 'spawn')
  await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: owner.pid, hostname: 'here', started_at: '2026-11-22T10:00:00.000Z', command: 'node dist/src/server.js' }))
  await t.rejects(lockDataDir(dir), {
    name: 'DataDirLockedError',
    message: `${dir} is in use by process ${owner.pid} on here (node dist/src/server.js, since 2026-11-22T10:00:00.000Z). One process at a time may open an embedded database: stop that process first, or, to add documents to a running server, import through its API (npm run kb:import -- --url <server> <folder>).`
  })
  t.equal(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid, owner.pid, 'the owner keeps its lock')
})

t.test('a lock left by a process that died, or left half-written, is taken over', async t => {
  const dir = await tempDir(t)
  const crashed = spawn(process.execPath, ['-e', ''])
  await once(crashed, 'exit')
  for (const left of [JSON.stringify({ pid: crashed.pid, hostname: 'here', started_at: '2026-11-22T10:00:00.000Z', command: 'x' }), '{"pid": 12']) {
    await writeFile(join(dir, LOCK_FILE), left)
    const release = await lockDataDir(dir)
    t.equal(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid, process.pid)
    await release()
  }
})

t.test('a log folder has a lock of its own: made if missing, and beside a data folder\'s lock in the same folder', async t => {
  const dir = join(await tempDir(t), 'logs')
  const releaseLogs = await lockLogDir(dir)
  const releaseData = await lockDataDir(dir)
  t.match(JSON.parse(await readFile(join(dir, LOG_LOCK_FILE), 'utf8')), { pid: process.pid })
  await t.rejects(lockLogDir(dir), { name: 'LogDirLockedError', message: /\(LOG_DIR\) is written by process \d+ .*Each instance needs a log folder of its own/ })
  await releaseData()
  await releaseLogs()
  await t.rejects(readFile(join(dir, LOG_LOCK_FILE)), { code: 'ENOENT' })
})
