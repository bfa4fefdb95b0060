// The plugin's schedule, on both engines: at start, conversations past CONVERSATION_RETENTION_DAYS
// go with their messages, feedback and turn traces, recent ones stay, and erasures older than a day
// are forgotten. The clock is the test's; the run is waited for, not timed.
import t from 'tap'
import { buildTestApp, engines, manualClock, waitFor } from '../helper.js'

const DAY_MS = 86_400_000

for (const engine of engines()) {
  t.test(`retention at start on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const clock = manualClock()
    const count = async (sql: string): Promise<number> => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0]!.n
    const before = await buildTestApp(t, { KB_SEED_DIR: '' }, { database: db, clock: clock.now })
    const old = (await before.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello', user_id: 'u1' } })).json<{ session_id: string }>()
    await before.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/feedback up', session_id: old.session_id } })
    await before.turnTraces.flush()
    await db.query('INSERT INTO erased_users (pseudonym, erased_at) VALUES ($1, $2)', ['u_0123456789abcdef', clock.now()])
    clock.advance(31 * DAY_MS)
    const recent = (await before.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello', user_id: 'u1' } })).json<{ session_id: string }>()
    await before.close()
    t.equal(await count('sessions'), 2)
    t.equal(await count('turn_traces'), 3)

    const app = await buildTestApp(t, { KB_SEED_DIR: '', CONVERSATION_RETENTION_DAYS: '30' }, { database: db, clock: clock.now })
    await app.ready()
    t.ok(await waitFor(async () => await count('sessions') === 1), 'the old conversation is deleted at start')
    t.same((await db.query('SELECT id::text AS id FROM sessions')).rows, [{ id: recent.session_id }], 'the recent one stays')
    t.equal(await count(`messages WHERE session_id = '${old.session_id}'`), 0)
    t.equal(await count('feedback'), 0)
    t.equal(await count('turn_traces'), 1, 'and their turn traces: only the recent turn\'s is left')
    t.ok(await waitFor(async () => await count('erased_users') === 0), 'an erasure older than a day is forgotten')
    t.equal(await count('audit_events WHERE action = \'conversations.retention\''), 1)
  })
}
