import t from 'tap'
import { ErasedError, NotFoundError } from '../../../src/errors.js'
import { SessionManager, type TurnMessages } from '../../../src/sessions/session-manager.js'
import { engines, genericPlan, manualClock, openTestPGlite } from '../../helper.js'
import { AuditTrail } from '../../../src/audit/audit-trail.js'

const MINUTE = 60_000
const TURN: TurnMessages = { userText: 'hi', reply: 'hello', kind: 'command', command: 'help', sources: [], topScore: null, latencyMs: 1 }

for (const engine of engines()) {
  t.test(`session manager on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const clock = manualClock()
    const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
    const create = (userId: string | null) => sessions.transaction((tx, audit) => sessions.create(tx, userId, audit))

    const kept = await create('u1')
    t.match(kept, { userId: 'u1', status: 'active', turnCount: 0, expiresAt: new Date(clock.now().getTime() + 30 * MINUTE) })
    const idle = await create(null)

    // Keep one session busy for 55 minutes while the other idles.
    for (let i = 0; i < 11; i++) {
      clock.advance(5 * MINUTE)
      await sessions.recordTurn(db, kept.id, TURN)
    }
    await t.rejects(sessions.resume(idle.id, null), NotFoundError, 'idle for 55 minutes')
    t.match(await sessions.resume(kept.id, 'u1'), { turnCount: 11, expiresAt: new Date(kept.createdAt.getTime() + 60 * MINUTE) }, 'the absolute age now bounds expiry')
    t.equal(await sessions.countActive(), 1)
    t.equal(await sessions.expireIdle(), 1)
    t.match(await sessions.get(idle.id), { status: 'expired', endedAt: clock.now() })

    clock.advance(5 * MINUTE)
    await t.rejects(sessions.recordTurn(db, kept.id, TURN), NotFoundError, 'an hour old, though active')
    t.equal(await sessions.expireIdle(), 1)
    t.equal(await sessions.countActive(), 0)
    t.equal(await sessions.transaction(async tx => await sessions.deleteSessions(tx, [kept.id])), 1)
    t.equal(await sessions.get(kept.id), undefined)
  })

  t.test(`erased sessions and users on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const clock = manualClock()
    const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), pseudonym: userId => `u_${userId}`, limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
    const create = (userId: string | null, options: { id?: string, turnStartedAt?: Date } = {}) => sessions.transaction((tx, audit) => sessions.create(tx, userId, audit, options))

    const first = await create('u1')
    const startedBefore = clock.now()
    clock.advance(1000)
    t.same(await sessions.transaction(async tx => await sessions.lockForErasure(tx, { userId: 'u1' })), [{ id: first.id, userId: 'u1' }], 'a user\'s sessions, locked')
    await sessions.transaction(async tx => {
      t.equal(await sessions.deleteSessions(tx, [first.id], clock.now()), 1)
      await sessions.rememberErasedUser(tx, 'u_u1', clock.now())
    })
    await t.rejects(create('u1', { turnStartedAt: startedBefore }), ErasedError, 'a turn that started before the erasure opens no session')
    await t.rejects(create(null, { id: first.id }), ErasedError, 'nor is an erased session id opened again')
    t.equal((await db.query('SELECT 1 FROM sessions')).rowCount, 0, 'nothing was stored')
    clock.advance(1)
    t.match(await create('u1', { turnStartedAt: clock.now() }), { userId: 'u1' }, 'a turn that started after it is a new conversation')
    t.match(await create('u2', { turnStartedAt: startedBefore }), { userId: 'u2' }, 'another user is not concerned')

    clock.advance(86_400_000)
    t.equal(await sessions.forgetErasuresBefore(new Date(clock.now().getTime() - 1000)), 2, 'erasures are forgotten after a while')
    t.match(await create('u1', { id: first.id, turnStartedAt: startedBefore }), { id: first.id })
  })

  t.test(`conversations ended before a cut-off on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const clock = manualClock()
    const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
    const create = (userId: string | null) => sessions.transaction((tx, audit) => sessions.create(tx, userId, audit))
    const oldest = await create('u1')
    clock.advance(MINUTE)
    const older = await create('u2')
    clock.advance(MINUTE)
    await create('u3')
    const cutoff = clock.now()
    t.same(await sessions.transaction(async tx => await sessions.endedBefore(tx, cutoff, 10)), [], 'a session still active is kept, however old its last turn')
    clock.advance(31 * MINUTE)
    t.same(await sessions.transaction(async tx => await sessions.endedBefore(tx, cutoff, 10)), [oldest.id, older.id], 'ended ones, oldest first')
    t.same(await sessions.transaction(async tx => await sessions.endedBefore(tx, cutoff, 1)), [oldest.id], 'a batch at most')
  })
}

for (const engine of engines()) {
  t.test(`${engine.name}: a turn's statements are named, and read the session's columns by name`, async t => {
    const db = await engine.open(t)
    const named: string[] = []
    // Records the names a statement is sent with; the statements run on the real database.
    const recording = { ...db, query: async (sql: string, params?: unknown[], options?: { name?: string }) => { if (options?.name !== undefined) named.push(options.name); return await db.query(sql, params, options) } } as typeof db
    const sessions = new SessionManager({ db: recording, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
    const session = await sessions.transaction((tx, audit) => sessions.create(tx, 'u1', audit))
    const resumed = await sessions.resume(session.id, 'u1')
    t.equal(await sessions.recordTurn(recording, resumed.id, TURN), 1)
    t.same(named, ['session_by_id', 'record_turn'], 'resuming and recording: each turn\'s two statements')
    t.match(await sessions.get(session.id), { id: session.id, userId: 'u1', status: 'active', turnCount: 1, endedAt: null }, 'every column read by name')

    // Turns that begin while a session is being read read theirs together (SessionReads).
    const [ann, ended, bobs] = [await sessions.transaction((tx, audit) => sessions.create(tx, 'ann', audit)),
      await sessions.transaction((tx, audit) => sessions.create(tx, 'ann', audit)),
      await sessions.transaction((tx, audit) => sessions.create(tx, 'bob', audit))]
    await sessions.transaction(async tx => { await sessions.end(tx, ended.id, 'reset') })
    named.length = 0
    const turns: Array<[string, string]> = [[session.id, 'u1'], [ann.id, 'ann'], [ended.id, 'ann'], [bobs.id, 'ann']]
    const resumedTogether = await Promise.allSettled(turns.map(async ([id, user]) => await sessions.resume(id, user)))
    t.match(resumedTogether, [{ value: { id: session.id, turnCount: 1 } }, { value: { id: ann.id, userId: 'ann' } },
      { reason: { message: /has ended: it was reset/ } }, { reason: { message: /does not exist/ } }],
    'each turn its own session, or its own reason why not')
    t.same(named, ['session_by_id', 'sessions_by_ids'], 'the first alone, the three that began meanwhile together')
  })

  t.test(`${engine.name}: turns of several sessions in one statement, stored as one at a time stores them`, async t => {
    const db = await engine.open(t)
    const clock = manualClock()
    const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
    const create = async () => await sessions.transaction((tx, audit) => sessions.create(tx, null, audit))
    const [alone, first, second, ended] = [await create(), await create(), await create(), await create()]
    await sessions.recordTurn(db, first.id, TURN)
    await sessions.transaction(async tx => { await sessions.end(tx, ended.id, 'reset') })
    const answer: TurnMessages = {
      userText: 'Where is my parcel? mail me at ann@example.com',
      reply: 'Track it from your account.',
      kind: 'answer',
      command: null,
      sources: [{ doc_id: 'parcel', title: 'Where is my parcel?', score: 3.2, snippet: 'Track it' }],
      topScore: 3.2,
      latencyMs: 4.5,
      contextTurn: 1,
      traceId: '0af7651916cd43dd8448eb211c80319c',
      generation: { by: 'model', model: 'm', prompt: 'p@1' },
      decision: { confidence: 0.9, threshold: 0.5, coverage: 1 } as TurnMessages['decision']
    }
    clock.advance(1000)
    const written = await sessions.recordTurns(db, [{ id: first.id, messages: answer }, { id: second.id, messages: TURN }, { id: ended.id, messages: TURN }])
    t.same([...written].sort(), [[first.id, 2], [second.id, 1]].sort(), 'each session\'s turn number; the ended one is not written')
    t.equal(await sessions.recordTurn(db, alone.id, answer), 1)
    const stored = async (id: string) => (await db.query(
      `SELECT turn, role, content, kind, command, sources, top_score, latency_ms, context_turn, created_at, trace_id, generation, search_text, decision
       FROM messages WHERE session_id = $1 AND turn = $2 ORDER BY role`, [id, id === first.id ? 2 : 1])).rows
    t.same(await stored(first.id), (await stored(alone.id)).map(row => ({ ...row, turn: 2 })), 'every column as recordTurn stores it, the scrubbed copy too')
    t.match(await sessions.get(first.id), { turnCount: 2, lastActivityAt: clock.now() })
    t.match(await sessions.get(ended.id), { status: 'reset', turnCount: 0 })
    t.equal((await db.query('SELECT 1 FROM messages WHERE session_id = $1', [ended.id])).rowCount, 0, 'nothing of the ended session\'s turn')
    t.same(await sessions.recordTurns(db, []), new Map(), 'none')
  })

  t.test(`${engine.name}: a turn finds its session by key, whatever the table's statistics say`, async t => {
    const db = await engine.open(t)
    const statements = new Map<string, { sql: string, params: unknown[] }>()
    const recording = { ...db, query: async (sql: string, params: unknown[] = [], options?: { name?: string }) => { if (options?.name !== undefined) statements.set(options.name, { sql, params }); return await db.query(sql, params, options) } } as typeof db
    const sessions = new SessionManager({ db: recording, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 1000, maxPerUser: 1000 } })
    // A new deployment: active sessions, and a table never analysed. A named statement's plan is
    // made once for the connection; the generic one scanned every active session for the turn's.
    for (let i = 0; i < 100; i++) await sessions.transaction((tx, audit) => sessions.create(tx, null, audit))
    const session = await sessions.resume((await sessions.transaction((tx, audit) => sessions.create(tx, null, audit))).id, null)
    await sessions.recordTurn(recording, session.id, TURN)
    const other = await sessions.transaction((tx, audit) => sessions.create(tx, null, audit))
    await sessions.recordTurns(recording, [{ id: session.id, messages: TURN }, { id: other.id, messages: TURN }])
    await sessions.getMany([session.id, other.id])
    for (const [name, { sql, params }] of statements) {
      const plan = await genericPlan(db, sql, params)
      t.match(plan, /Index Cond: \(id = (ANY \()?\$\d+\)/, `${name} looks the sessions up by their id`)
      t.notMatch(plan, /sessions_active_by_activity|Seq Scan on sessions/, `${name} reads no other session`)
    }
    t.same([...statements.keys()].sort(), ['record_turn', 'record_turns', 'session_by_id', 'sessions_by_ids'])
  })
}

t.test('pglite: the sweep gives the table statistics, which the embedded database never makes', async t => {
  const db = await openTestPGlite(t)
  const sessions = new SessionManager({ db, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
  for (let i = 0; i < 10; i++) await sessions.transaction((tx, audit) => sessions.create(tx, null, audit))
  const statistics = async (): Promise<number> =>
    (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stats WHERE tablename = 'sessions'")).rows[0]!.n
  t.equal(await statistics(), 0, 'none before')
  await sessions.refreshStatistics()
  t.ok(await statistics() > 0, 'each column\'s, after')
  await db.query(`INSERT INTO sessions (id, created_at, last_activity_at)
    SELECT gen_random_uuid(), now() - g * interval '1 second', now() - g * interval '1 second' FROM generate_series(1, 200) g`)
  await sessions.refreshStatistics()
  const { rows } = await db.query<{ bounds: number }>(
    "SELECT max(array_length(histogram_bounds, 1))::int AS bounds FROM pg_stats WHERE tablename = 'sessions'")
  t.equal(rows[0]!.bounds, 11, 'from a small sample: 10 buckets a column, not 100')
  t.same((await db.query('SHOW default_statistics_target')).rows, [{ default_statistics_target: '100' }], 'the default restored')
})
