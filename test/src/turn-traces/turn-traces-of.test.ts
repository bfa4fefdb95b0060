// The turn traces of given sessions or of one user, as an erasure deletes them and a user's export
// lists them: matched by session or by pseudonym, oldest first, without spans or log lines, and
// nothing at all when neither is given.
import t from 'tap'
import type { Database } from '../../../src/db/database.js'
import { deleteTurnTraces, turnTraceSummaries } from '../../../src/turn-traces/turn-traces-of.js'
import { engines } from '../../helper.js'

const S1 = '11111111-1111-4111-8111-111111111111'
const S2 = '22222222-2222-4222-8222-222222222222'
const S3 = '33333333-3333-4333-8333-333333333333'
const PARTS = { admission_ms: 1.5, database_ms: 4, search_ms: 2.25, model_ms: 0 }

interface Row { trace: string, session: string | null, turn: number | null, user: string | null, at: string, status?: 'ok' | 'error', code?: number, parts?: typeof PARTS | null }

async function insert (db: Database, rows: Row[]): Promise<void> {
  for (const row of rows) {
    await db.query(`INSERT INTO turn_traces (trace_id, session_id, turn, user_pseudonym, status, status_code, started_at, duration_ms, spans, logs, parts)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json, $10::json, $11::jsonb)`,
    [row.trace, row.session, row.turn, row.user, row.status ?? 'ok', row.code ?? 200, row.at, 12.5,
      JSON.stringify([{ span_id: 'a', name: 'chat.turn' }]), JSON.stringify([{ msg: 'chat.reply_sent' }]),
      row.parts === undefined ? JSON.stringify(PARTS) : row.parts === null ? null : JSON.stringify(row.parts)])
  }
}

const ROWS: Row[] = [
  { trace: 'trace-c', session: S1, turn: 2, user: 'u_aaaaaaaaaaaaaaaa', at: '2026-01-15T10:00:02.000Z' },
  { trace: 'trace-a', session: S1, turn: 1, user: 'u_aaaaaaaaaaaaaaaa', at: '2026-01-15T10:00:01.000Z' },
  { trace: 'trace-b', session: S1, turn: 3, user: 'u_aaaaaaaaaaaaaaaa', at: '2026-01-15T10:00:02.000Z', status: 'error', code: 500, parts: null },
  { trace: 'trace-d', session: null, turn: null, user: 'u_aaaaaaaaaaaaaaaa', at: '2026-01-15T09:00:00.000Z', status: 'error', code: 503 },
  { trace: 'trace-e', session: S2, turn: 1, user: 'u_bbbbbbbbbbbbbbbb', at: '2026-01-15T11:00:00.000Z' },
  { trace: 'trace-f', session: S3, turn: 1, user: null, at: '2026-01-15T12:00:00.000Z' }
]

const traceIds = async (db: Database): Promise<string[]> =>
  (await db.query<{ trace_id: string }>('SELECT trace_id FROM turn_traces ORDER BY trace_id')).rows.map(row => row.trace_id)

for (const engine of engines()) {
  t.test(`${engine.name}: summaries by session and by user, oldest first, trace id breaking ties`, async t => {
    const db = await engine.open(t)
    await insert(db, ROWS)
    const ofUser = await turnTraceSummaries(db, { sessionIds: [S1], userPseudonym: 'u_aaaaaaaaaaaaaaaa' })
    t.same(ofUser.map(summary => summary.trace_id), ['trace-d', 'trace-a', 'trace-b', 'trace-c'])
    t.same(ofUser[0], { trace_id: 'trace-d', session_id: null, turn: null, status: 'error', status_code: 503, started_at: '2026-01-15T09:00:00.000Z', duration_ms: 12.5, parts: PARTS }, 'a turn that failed before its session was stored, found by pseudonym')
    t.same(ofUser[1], { trace_id: 'trace-a', session_id: S1, turn: 1, status: 'ok', status_code: 200, started_at: '2026-01-15T10:00:01.000Z', duration_ms: 12.5, parts: PARTS })
    t.equal(ofUser[2]?.parts, null, 'a turn recorded before its parts were measured')
    for (const summary of ofUser) {
      t.notOk('spans' in summary || 'logs' in summary || 'user_pseudonym' in summary, `${summary.trace_id}: no spans, log lines or pseudonym`)
    }
    t.same((await turnTraceSummaries(db, { sessionIds: [S2, S3] })).map(summary => summary.trace_id), ['trace-e', 'trace-f'], 'sessions only')
    t.same((await turnTraceSummaries(db, { sessionIds: [], userPseudonym: 'u_bbbbbbbbbbbbbbbb' })).map(summary => summary.trace_id), ['trace-e'], 'a user only')
    t.same(await turnTraceSummaries(db, { sessionIds: ['44444444-4444-4444-8444-444444444444'], userPseudonym: 'u_cccccccccccccccc' }), [], 'nobody\'s')
    t.same(await turnTraceSummaries(db, { sessionIds: [] }), [], 'neither sessions nor a user: nothing, not everything')
  })

  t.test(`${engine.name}: delete removes exactly those, and says how many`, async t => {
    const db = await engine.open(t)
    await insert(db, ROWS)
    t.equal(await deleteTurnTraces(db, { sessionIds: [] }), 0, 'neither given: nothing deleted')
    t.equal(await deleteTurnTraces(db, { sessionIds: [], userPseudonym: undefined }), 0)
    t.equal((await traceIds(db)).length, 6, 'every row still there')
    t.equal(await deleteTurnTraces(db, { sessionIds: [S3] }), 1)
    t.same(await traceIds(db), ['trace-a', 'trace-b', 'trace-c', 'trace-d', 'trace-e'])
    t.equal(await deleteTurnTraces(db, { sessionIds: [S2], userPseudonym: 'u_aaaaaaaaaaaaaaaa' }), 5, 'sessions or the user')
    t.same(await traceIds(db), [])
    t.equal(await deleteTurnTraces(db, { sessionIds: [S1], userPseudonym: 'u_aaaaaaaaaaaaaaaa' }), 0, 'again: none left')
  })

  t.test(`${engine.name}: a user's pseudonym alone takes their traces in every session, and only theirs`, async t => {
    const db = await engine.open(t)
    await insert(db, ROWS)
    t.equal(await deleteTurnTraces(db, { sessionIds: [], userPseudonym: 'u_bbbbbbbbbbbbbbbb' }), 1)
    t.same(await traceIds(db), ['trace-a', 'trace-b', 'trace-c', 'trace-d', 'trace-f'])
  })

  t.test(`${engine.name}: inside a transaction, rolled back with it`, async t => {
    const db = await engine.open(t)
    await insert(db, ROWS)
    await t.rejects(db.transaction(async tx => {
      t.equal(await deleteTurnTraces(tx, { sessionIds: [S1, S2, S3] }), 5)
      t.same(await turnTraceSummaries(tx, { sessionIds: [S1] }), [], 'gone within the transaction')
      throw new Error('the erasure failed later')
    }), { message: 'the erasure failed later' })
    t.equal((await traceIds(db)).length, 6, 'all back')
  })
}
