// Whether the database answers, on both engines: a check's answer and when it changed, a held
// connection timing a check out, failures for want of a connection taking the database for down at
// once (and nothing else doing so), and the statements' latency window and slowest recent one.
import t from 'tap'
import { DatabaseHealth, databaseUnavailable, isConnectionError, type DatabaseState } from '../../../src/health/database-health.js'
import { ProblemError } from '../../../src/errors.js'
import { openPostgresDatabase } from '../../../src/db/postgres-database.js'
import { engines, manualClock, openTestPGlite } from '../../helper.js'
import { behindProxy } from '../../tcp-proxy.js'

const MINUTE = 60_000

t.test('isConnectionError: connection SQLSTATEs, socket codes and pg\'s own messages only', async t => {
  const coded = (code: unknown): Error => Object.assign(new Error('x'), { code })
  for (const code of ['08000', '08003', '08006', '08001', '08004', '08P01', '57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']) {
    t.ok(isConnectionError(coded(code)), code)
  }
  t.ok(isConnectionError({ code: '57P01' }), 'a plain object with a code')
  for (const code of ['57P04', '57014', '23505', '22P02', '42P01', '40001', 'ECONNREFUSEDX', 'XECONNRESET', 'EACCES', 8006, undefined]) {
    t.notOk(isConnectionError(coded(code)), String(code))
  }
  for (const message of ['Connection terminated unexpectedly', 'connection timeout', 'timeout exceeded when trying to connect', 'Client has encountered a connection error and is not queryable', 'Connection terminated due to connection timeout']) {
    t.ok(isConnectionError(new Error(message)), message)
  }
  t.notOk(isConnectionError(new Error('duplicate key value violates unique constraint')))
  t.notOk(isConnectionError({ message: 'Connection terminated unexpectedly' }), 'the message counts only on an Error')
  t.notOk(isConnectionError('ECONNREFUSED'), 'a bare string')
  t.notOk(isConnectionError(null))
  t.notOk(isConnectionError(undefined))
})

t.test('databaseUnavailable: a 503 to retry, saying nothing was kept', async t => {
  const problem = databaseUnavailable(7)
  t.ok(problem instanceof ProblemError)
  t.equal(problem.statusCode, 503)
  t.equal(problem.type, 'database-unavailable')
  t.equal(problem.title, 'Service Unavailable')
  t.equal(problem.retryAfterSeconds, 7)
  t.same(problem.extensions, { reason: 'database', retry_after_seconds: 7 })
  t.match(problem.message, /nothing of this request was kept/)
})

t.test('a check of a database that answers, then of one closed (PGlite)', async t => {
  const db = await openTestPGlite(t)
  const clock = manualClock()
  const changes: DatabaseState[] = []
  const health = new DatabaseHealth({ db, now: clock.now, onChange: state => changes.push(state) })
  const started = clock.now()
  t.same(health.current(), { up: true, since: started, lastCheckedAt: undefined, lastError: undefined, connectionErrors: 0 }, 'taken for up until checked')
  clock.advance(5000)
  t.equal(await health.check(), true)
  t.same(health.current(), { up: true, since: started, lastCheckedAt: clock.now(), lastError: undefined, connectionErrors: 0 }, 'still up: since does not move')
  t.same(changes, [], 'no change, no call')
  await db.close()
  clock.advance(5000)
  t.equal(await health.check(), false, 'never throws')
  const down = health.current()
  t.equal(down.up, false)
  t.same(down.since, clock.now(), 'since: when it changed')
  t.same(down.lastCheckedAt, clock.now())
  t.type(down.lastError, 'string')
  t.ok((down.lastError ?? '') !== '', `the reason: ${down.lastError}`)
  t.same(changes, [down], 'told once')
  clock.advance(5000)
  t.equal(await health.check(), false)
  t.same(health.current().since, down.since, 'still down: since stays')
  t.equal(changes.length, 1, 'no second call while it stays down')
})

for (const engine of engines()) {
  t.test(`${engine.name}: a connection failure takes it down at once; the next good check brings it back`, async t => {
    const db = await engine.open(t)
    const clock = manualClock()
    const changes: boolean[] = []
    const health = new DatabaseHealth({ db, now: clock.now, onChange: state => changes.push(state.up) })
    t.equal(health.recordFailure(Object.assign(new Error('duplicate key'), { code: '23505' })), false, 'the request\'s own fault')
    t.equal(health.current().up, true)
    t.equal(health.current().connectionErrors, 0)
    clock.advance(1000)
    t.equal(health.recordFailure(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), true)
    t.same(health.current(), { up: false, since: clock.now(), lastCheckedAt: undefined, lastError: 'terminating connection due to administrator command', connectionErrors: 1 })
    clock.advance(1000)
    t.equal(health.recordFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), true)
    t.equal(health.current().connectionErrors, 2, 'each counted')
    t.equal(health.current().lastError, 'terminating connection due to administrator command', 'already down: the first reason stays')
    t.equal(health.connectionErrorWindow.count(MINUTE), 2)
    t.same(changes, [false], 'told once')
    clock.advance(1000)
    t.equal(await health.check(), true, 'the database itself answers')
    t.same(health.current(), { up: true, since: clock.now(), lastCheckedAt: clock.now(), lastError: undefined, connectionErrors: 2 })
    t.same(changes, [false, true])
    clock.advance(2 * MINUTE)
    t.equal(health.connectionErrorWindow.count(MINUTE), 0, 'the window slides on the injected clock')
  })
}

const serverUrl = process.env.TEST_DATABASE_URL ?? ''

t.test('server PostgreSQL cut off and back: checks follow, and the failure reads as a connection error', { skip: serverUrl === '' && 'needs TEST_DATABASE_URL' }, async t => {
  const { proxy, url } = await behindProxy(t, serverUrl)
  const db = await openPostgresDatabase(url, 2)
  t.teardown(() => db.close())
  const changes: boolean[] = []
  const health = new DatabaseHealth({ db, timeoutMs: 10_000, onChange: state => changes.push(state.up) })
  t.equal(await health.check(), true)
  await proxy.cut()
  t.equal(await health.check(), false)
  const failure = await db.query('SELECT 1').then(() => undefined, (error: unknown) => error)
  t.ok(isConnectionError(failure), `the refused statement's error reads as one: ${String(failure)}`)
  t.equal(health.recordFailure(failure), true)
  await proxy.restore()
  t.equal(await health.check(), true)
  t.same(changes, [false, true])
  t.equal(health.current().connectionErrors, 1)
})

t.test('a check that gets no answer in time fails (PGlite held by a transaction)', async t => {
  const db = await openTestPGlite(t)
  const health = new DatabaseHealth({ db, timeoutMs: 50 })
  let release = (): void => {}
  const held = db.transaction(async () => { await new Promise<void>(resolve => { release = resolve }) })
  t.equal(await health.check(), false)
  t.equal(health.current().lastError, 'no answer within 50 ms')
  release()
  await held
  t.equal(await health.check(), true, 'answers again once the connection is free')
  t.equal(health.current().lastError, undefined)
})

t.test('statements: seconds into the window, and the slowest of the last 15 minutes', async t => {
  const db = await openTestPGlite(t)
  const clock = manualClock()
  const health = new DatabaseHealth({ db, now: clock.now, horizonMs: 3_600_000 })
  t.equal(health.slowestRecent(), undefined)
  health.recordStatement('SELECT   id\n  FROM sessions\n WHERE id = $1', 12.345)
  t.same(health.slowestRecent(), { statement: 'SELECT id FROM sessions WHERE id = $1', duration_ms: 12.3, at: clock.now().toISOString() }, 'whitespace folded, ms to a tenth')
  clock.advance(MINUTE)
  health.recordStatement('SELECT 1', 5)
  t.equal(health.slowestRecent()?.statement, 'SELECT id FROM sessions WHERE id = $1', 'a faster one does not replace it')
  health.recordStatement(`INSERT INTO messages ${'x'.repeat(300)}`, 250)
  const slowest = health.slowestRecent()
  t.equal(slowest?.duration_ms, 250)
  t.equal(slowest?.statement.length, 200, 'cut to 200 characters')
  t.equal(slowest?.at, clock.now().toISOString())
  clock.advance(15 * MINUTE)
  t.equal(health.slowestRecent()?.duration_ms, 250, 'exactly 15 minutes old: still recent')
  clock.advance(1)
  t.equal(health.slowestRecent(), undefined, 'older: not shown')
  health.recordStatement('SELECT 2', 1)
  t.equal(health.slowestRecent()?.statement, 'SELECT 2', 'a stale slowest gives way to any statement')
  t.equal(health.statementSeconds.count(60 * MINUTE), 4)
  t.equal(health.statementSeconds.count(MINUTE), 1)
  const p = health.statementSeconds.quantile(1, 60 * MINUTE)
  t.ok(p !== undefined && Math.abs(p - 0.25) / 0.25 <= 0.06, `the window holds seconds (${p})`)
})

t.test('current() is a copy', async t => {
  const db = await openTestPGlite(t)
  const health = new DatabaseHealth({ db })
  const state = health.current()
  state.up = false
  state.connectionErrors = 99
  t.equal(health.current().up, true)
  t.equal(health.current().connectionErrors, 0)
})
