// What the database acknowledged, it keeps. On the embedded database each commit's write-ahead
// log is flushed to disk before the commit returns, so a turn's 200 follows a real fdatasync of
// pg_wal (seen with strace, which CI installs), and each audit.log entry is flushed as it is
// written. A server killed under load, on either engine, keeps every turn it answered 200 to.
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { openDatabase } from '../../../src/db/open-database.js'
import { createServerDatabase, tempDir, waitFor } from '../../helper.js'
import { startServer } from '../../server-process.js'

const ADMIN = 'durability-test-admin-key-0123456789'
const hasStrace = ((): boolean => { try { execFileSync('strace', ['-V'], { stdio: 'ignore' }); return true } catch { return false } })()

async function chat (base: string, message: string, sessionId?: string): Promise<Response> {
  return await fetch(`${base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message, ...(sessionId === undefined ? {} : { session_id: sessionId }) }) })
}

t.test('embedded: each chat turn\'s 200 is written after its commit\'s write-ahead log is flushed to disk', { skip: process.platform !== 'linux' || !hasStrace ? 'needs Linux and strace' : false }, async t => {
  const dataDir = await tempDir(t)
  const logDir = await tempDir(t)
  const server = await startServer(t, { DATA_DIR: dataDir, KB_SEED_DIR: '', LOG_DIR: logDir, API_KEYS: `${ADMIN}:admin` })
  const traceFile = process.env.DURABILITY_STRACE_FILE ?? join(await tempDir(t), 'strace.txt')
  // Attached to the running server (every thread): the flushes and the socket writes, with the paths of their descriptors.
  const strace = spawn('strace', ['-f', '-p', String(server.pid), '-y', '-s', '24', '-e', 'trace=fdatasync,fsync,write,writev', '-o', traceFile], { stdio: ['ignore', 'ignore', 'pipe'] })
  let attached = ''
  strace.stderr.setEncoding('utf8').on('data', (chunk: string) => { attached += chunk })
  t.ok(await waitFor(() => attached.includes('attached'), 10_000), `strace attached: ${attached}`)
  let sessionId: string | undefined
  for (let i = 0; i < 5; i++) {
    const response = await chat(server.base, `how do I change my password, take ${i}?`, sessionId)
    t.equal(response.status, 200)
    sessionId = (await response.json() as { session_id: string }).session_id
  }
  // An audited action: its entry in audit.log is flushed by the log worker as it is written.
  const added = await fetch(`${server.base}/v1/kb/documents`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ documents: [{ id: 'passwords', title: 'Passwords', text: 'Reset it from the sign-in page.' }] }) })
  t.equal(added.status, 201)
  // The log worker flushes the file as soon as its write returns: seen written, it is being flushed.
  const auditWritten = async (): Promise<boolean> => (await readFile(join(logDir, 'audit.log'), 'utf8').catch(() => '')).includes('"action":"kb.documents.add"')
  t.ok(await waitFor(auditWritten, 10_000), 'the audit entry is written')
  // Matched whether the call is whole or `<unfinished ...>` while another thread's call was traced.
  const auditFlushed = /\bfsync\(\d+<[^>]*\/audit\.[^>]*\.log>/
  // strace may hold its output until it exits: what it wrote so far only shortens the wait.
  await waitFor(async () => auditFlushed.test(await readFile(traceFile, 'utf8')), 2000)
  strace.kill('SIGINT') // strace writes out what it traced and detaches; the server runs on
  await once(strace, 'exit')
  const traced = await readFile(traceFile, 'utf8')
  t.match(traced, auditFlushed, 'and flushed to disk')
  t.equal(await server.stop(), 0)

  const flushesBefore: number[] = []
  let flushes = 0
  for (const line of traced.split('\n')) {
    if (/\bf(data)?sync\(\d+<[^>]*\/pg_wal\//.test(line)) flushes++
    else if (/\bwritev?\(\d+<(socket|TCP)/.test(line) && line.includes('HTTP/1.1 200')) {
      flushesBefore.push(flushes)
      flushes = 0
    }
  }
  t.equal(flushesBefore.length, 5, 'five replies written')
  t.ok(flushesBefore.every(count => count >= 1), `each after a flush of pg_wal since the reply before (${flushesBefore.join(', ')})`)
})

interface EngineSetup { name: string, env: (t: Test) => Promise<Record<string, string>> }
const engines: EngineSetup[] = [{ name: 'embedded', env: async t => ({ DATA_DIR: await tempDir(t) }) }]
if ((process.env.TEST_DATABASE_URL ?? '') !== '') {
  engines.push({
    name: 'PostgreSQL',
    env: async t => {
      const scratch = await createServerDatabase(process.env.TEST_DATABASE_URL!)
      t.teardown(scratch.drop)
      return { DATABASE_URL: scratch.url }
    }
  })
}

for (const engine of engines) {
  t.test(`${engine.name}: a server killed under load keeps every turn it answered 200 to`, async t => {
    const env: Record<string, string> = { ...await engine.env(t), KB_SEED_DIR: '' }
    const server = await startServer(t, env)
    const acknowledged: Array<{ session: string, turn: number }> = []
    const load = { killed: false }
    // Eight users, each in one conversation, until the server dies under them.
    const user = async (n: number): Promise<void> => {
      let sessionId: string | undefined
      while (!load.killed) {
        const response = await chat(server.base, `user ${n}: how do I reset my password?`, sessionId).catch(() => undefined)
        if (response?.status !== 200) continue
        const reply = await response.json().catch(() => undefined) as { session_id: string, turn: number } | undefined
        if (reply === undefined) continue // the body was cut by the kill: not acknowledged
        sessionId = reply.session_id
        acknowledged.push({ session: reply.session_id, turn: reply.turn })
      }
    }
    const users = Array.from({ length: 8 }, (_, n) => user(n))
    t.ok(await waitFor(() => acknowledged.length >= 100, 60_000), 'a hundred turns answered')
    await server.stop('SIGKILL')
    load.killed = true
    await Promise.all(users)

    const db = await openDatabase({ databaseUrl: env.DATABASE_URL ?? '', dataDir: env.DATA_DIR ?? '', poolSize: 2 })
    const { rows } = await db.query<{ session_id: string, turn: number, roles: number }>(
      'SELECT session_id::text, turn, count(*)::int AS roles FROM messages GROUP BY session_id, turn').finally(() => db.close())
    const stored = new Map(rows.map(row => [`${row.session_id}/${row.turn}`, row.roles]))
    const missing = acknowledged.filter(({ session, turn }) => stored.get(`${session}/${turn}`) !== 2)
    t.same(missing, [], `all ${acknowledged.length} acknowledged turns are stored, question and reply`)

    const again = await startServer(t, env)
    t.equal((await fetch(`${again.base}/ready`)).status, 200, 'and the server starts again on it')
    t.equal(await again.stop(), 0)
  })
}
