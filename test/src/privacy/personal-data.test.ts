// Erasure, export and retention of what is held about a user or a conversation, on both engines,
// with the real stores and a real chat turn: everything of the user goes (their failed turns'
// traces and the test questions taken from their words too) and nothing of anyone else's; a turn in
// flight when the erasure runs stores nothing afterwards; the audit trail names the user by
// pseudonym only.
import t from 'tap'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import { ChatService } from '../../../src/chat/chat-service.js'
import { TranscriptRepository } from '../../../src/transcript/transcript-repository.js'
import { helpText, parseMessage } from '../../../src/commands/command-parser.js'
import type { Database } from '../../../src/db/database.js'
import { ErasedError, NotFoundError } from '../../../src/errors.js'
import { EvaluationStore, questionsDigest } from '../../../src/evaluation/evaluation-store.js'
import type { AnswerWriter, WriteResult } from '../../../src/llm/answer-writer.js'
import { LogPrivacy } from '../../../src/logging/log-privacy.js'
import { scrub } from '../../../src/logging/scrubber.js'
import { ERASE_ACTION, PersonalData, type Erased } from '../../../src/privacy/personal-data.js'
import { splitIntoPassages } from '../../../src/search/passages.js'
import { SearchEngine } from '../../../src/search/search-engine.js'
import { SessionManager } from '../../../src/sessions/session-manager.js'
import { TurnTraceRecorder } from '../../../src/turn-traces/turn-trace-recorder.js'
import { engines, manualClock, waitFor } from '../../helper.js'

const EMAIL = 'jane.doe@example.com'
const MINUTE = 60_000

/** A model that answers only when the test lets it: the turn is in flight until then. */
function gatedWriter () {
  let entered!: () => void
  let release!: () => void
  const state = { entered: new Promise<void>(resolve => { entered = resolve }), gate: new Promise<void>(resolve => { release = resolve }) }
  const writer = {
    write: async (): Promise<WriteResult> => {
      entered()
      await state.gate
      return { ok: false, reason: 'canceled', model: 'gated', prompt: 'test@1' }
    }
  } as unknown as AnswerWriter
  return { writer, entered: state.entered, release }
}

function setUp (db: Database, options: { answerWriter?: AnswerWriter, sleep?: (ms: number) => Promise<void> } = {}) {
  const clock = manualClock()
  const privacy = new LogPrivacy({ userIdMode: 'hashed', idSecret: 'pseudonym-secret', chatContent: 'off' })
  const pseudonym = (userId: string) => privacy.pseudonym(userId)
  const auditTrail = new AuditTrail({ db, now: clock.now })
  const sessionManager = new SessionManager({ db, now: clock.now, auditTrail, pseudonym, limits: { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 60 * MINUTE, maxActive: 100, maxPerUser: 100 } })
  const transcript = new TranscriptRepository(db)
  const evaluationStore = new EvaluationStore({ db, auditTrail, now: clock.now })
  const searchEngine = new SearchEngine()
  searchEngine.upsert({ id: 'sessions', title: 'Sessions', passages: splitIntoPassages('A session expires after thirty minutes without a turn.') })
  const chat = new ChatService({ db, sessionManager, transcript, searchEngine, commandParser: { parse: parseMessage, help: helpText }, answerWriter: options.answerWriter, now: clock.now })
  const erased: Array<{ sessionIds: string[], userPseudonym?: string }> = []
  const onErased = ({ sessionIds, userPseudonym }: Erased) => { erased.push({ sessionIds: [...sessionIds], userPseudonym }) }
  const personalData = new PersonalData({ db, auditTrail, sessionManager, transcript, evaluationStore, pseudonym, scrub, now: clock.now, sleep: options.sleep, onErased })
  return { clock, pseudonym, chat, personalData, evaluationStore, sessionManager, erased }
}

const count = async (db: Database, table: string, where = 'true', params: unknown[] = []): Promise<number> =>
  (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params)).rows[0]!.n

async function insertTrace (db: Database, traceId: string, sessionId: string | null, userPseudonym: string | null, at: Date): Promise<void> {
  await db.query(`INSERT INTO turn_traces (trace_id, session_id, turn, status, status_code, started_at, duration_ms, logs, user_pseudonym)
    VALUES ($1, $2, NULL, 'error', 500, $3, 12, $4, $5)`, [traceId, sessionId, at, JSON.stringify([{ msg: 'chat.message_received', text: `write to ${EMAIL}` }]), userPseudonym])
}

for (const engine of engines()) {
  t.test(`a user's erasure and export on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const { clock, pseudonym, chat, personalData, evaluationStore, erased } = setUp(db)
    const first = await chat.handleTurn({ message: `my mail is ${EMAIL}: when does a session expire?`, userId: 'u1' })
    await chat.handleTurn({ message: '/feedback down not what I asked', sessionId: first.sessionId })
    clock.advance(1000)
    const second = await chat.handleTurn({ message: 'hello', userId: 'u1' })
    const other = await chat.handleTurn({ message: `my mail is ${EMAIL}: when does a session expire?`, userId: 'u2' })
    // Their turns' traces, and a failed turn of u1's whose session was never stored.
    await insertTrace(db, 'trace-first', first.sessionId, pseudonym('u1'), clock.now())
    await insertTrace(db, 'trace-failed', '0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b', pseudonym('u1'), clock.now())
    await insertTrace(db, 'trace-other', other.sessionId, pseudonym('u2'), clock.now())
    // The console took u1's question into the test set (scrubbed), and a run quoted it.
    const [taken, kept] = await evaluationStore.addQuestions([{ id: null, question: scrub(`my mail is ${EMAIL}: when does a session expire?`), expected: ['sessions'] }, { id: null, question: 'how long is a session?', expected: ['sessions'] }], 'key_admin', 'console')
    const results = [taken!, kept!].map(question => ({ id: question.id, question: question.question, expected: ['sessions'], outcome: 'answered_right' as const, kind: 'answer' as const, doc_id: 'sessions', confidence: 0.9 }))
    const counts = { answered_right: 2, wrong_document: 0, refused_but_answerable: 0, out_of_scope_refused: 0 }
    const at = clock.now().toISOString()
    const run = await evaluationStore.saveRun({ started_at: at, finished_at: at, actor: 'key_admin', question_set: 'saved', questions: 2, counts, accuracy: 1, answer_rate: 1, documents: 1, results, questions_digest: questionsDigest('saved', results) })
    // A question file that copied u1's words as written (another case, spaces around), run with the API.
    const given = [` My mail is ${EMAIL.toUpperCase()}: when does a session expire? `, 'how long is a session?']
      .map(question => ({ ...results[0]!, id: null, question }))
    const fileRun = await evaluationStore.saveRun({ started_at: at, finished_at: at, actor: 'key_admin', question_set: 'given', questions: 2, counts, accuracy: 1, answer_rate: 1, documents: 1, results: given, questions_digest: questionsDigest('given', given) })

    const exported = await personalData.exportUser('u1', 'key_admin')
    t.match(exported, { user_id: 'u1', user_pseudonym: pseudonym('u1'), evaluation_questions: [{ id: taken!.id }] })
    t.same(exported.sessions.map(session => session.session_id), [second.sessionId, first.sessionId], 'every session, most recently used first')
    const firstExported = exported.sessions[1]!
    t.same(firstExported.messages.map(m => `${m.turn}:${m.role}`), ['1:user', '1:bot', '2:user', '2:bot'], 'the whole transcript')
    t.match(firstExported.messages[0], { content: `my mail is ${EMAIL}: when does a session expire?` }, 'as the user wrote it')
    t.match(firstExported.feedback, [{ turn: 1, rating: 'down', comment: 'not what I asked' }])
    t.same(exported.turn_traces.map(trace => trace.trace_id).sort(), ['trace-failed', 'trace-first'], 'their turns\' traces, a failed one too')
    t.notOk('logs' in exported.turn_traces[0]!, 'without the log lines')

    const report = await personalData.erase({ userId: 'u1' }, 'key_admin')
    t.same(report, {
      subject: 'user',
      user_pseudonym: pseudonym('u1'),
      session_id: null,
      erased_at: clock.now().toISOString(),
      erased: { sessions: 2, messages: 6, feedback: 1, turn_traces: 2, evaluation_questions: 1, evaluation_runs: 2 }
    })
    t.equal(await count(db, 'sessions', 'user_id = $1', ['u1']), 0)
    t.equal(await count(db, 'messages', 'session_id = ANY($1::uuid[])', [[first.sessionId, second.sessionId]]), 0)
    t.equal(await count(db, 'feedback'), 0)
    t.same((await db.query<{ trace_id: string }>('SELECT trace_id FROM turn_traces')).rows, [{ trace_id: 'trace-other' }], 'the other user\'s trace stays')
    t.same((await evaluationStore.listQuestions()).map(question => question.id), [kept!.id], 'the question taken from their words goes')
    t.same((await evaluationStore.getRun(run.id))!.results.map(row => row.question), ['[erased]', 'how long is a session?'], 'a run keeps its counts, not their words')
    t.same((await evaluationStore.getRun(fileRun.id))!.results.map(row => row.question), ['[erased]', 'how long is a session?'], 'nor a question file\'s copy of them')
    t.equal(await count(db, 'sessions', 'user_id = $1', ['u2']), 1, 'the other user keeps their conversation, though it has the same words')
    t.equal(await count(db, 'messages', 'session_id = $1', [other.sessionId]), 2)
    t.same(erased, [{ sessionIds: [first.sessionId, second.sessionId].sort(), userPseudonym: pseudonym('u1') }], 'this instance is told, to let go of what it holds')

    const { rows: audits } = await db.query<{ actor: string, action: string, target: string, details: Record<string, unknown> }>('SELECT actor, action, target, details FROM audit_events WHERE action LIKE \'personal_data.%\' ORDER BY id')
    t.match(audits, [
      { actor: 'key_admin', action: 'personal_data.export', target: pseudonym('u1'), details: { sessions: 2 } },
      { actor: 'key_admin', action: ERASE_ACTION, target: pseudonym('u1'), details: { subject: 'user', erased: report.erased } }
    ])
    const auditText = JSON.stringify(audits)
    for (const said of ['"u1"', EMAIL, 'session expire', first.sessionId]) t.notOk(auditText.includes(said), `the audit trail does not say ${said}`)

    t.same((await personalData.exportUser('u1', 'key_admin')).sessions, [], 'nothing is left to export')
    t.same((await personalData.erase({ userId: 'u1' }, 'key_admin')).erased, { sessions: 0, messages: 0, feedback: 0, turn_traces: 0, evaluation_questions: 0, evaluation_runs: 0 }, 'erasing again erases nothing, and says so')
  })

  t.test(`one session's erasure, and a deleted session, on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const { pseudonym, chat, personalData, clock } = setUp(db)
    const kept = await chat.handleTurn({ message: 'hello', userId: 'u1' })
    const gone = await chat.handleTurn({ message: 'hello again', userId: 'u1' })
    await insertTrace(db, 'trace-gone', gone.sessionId, pseudonym('u1'), clock.now())
    const report = await personalData.erase({ sessionId: gone.sessionId.toUpperCase() }, 'key_admin')
    t.match(report, { subject: 'session', session_id: gone.sessionId, user_pseudonym: pseudonym('u1'), erased: { sessions: 1, messages: 2, feedback: 0, turn_traces: 1 } })
    t.equal(await count(db, 'sessions'), 1, 'the user\'s other session stays')
    t.equal(await count(db, 'sessions', 'id = $1', [kept.sessionId]), 1)
    t.equal(await count(db, 'erased_sessions', 'session_id = $1', [gone.sessionId]), 1, 'the id is remembered as erased')

    t.equal(await personalData.deleteSession(kept.sessionId, 'anonymous'), true)
    t.equal(await personalData.deleteSession(kept.sessionId, 'anonymous'), false, 'a second time: there is none')
    t.equal(await personalData.deleteSession('0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b', 'anonymous'), false)
    t.equal(await count(db, 'erased_sessions'), 2, 'an id that never was a session is not remembered')
    t.same((await db.query('SELECT action, target, result FROM audit_events WHERE action = \'session.delete\' ORDER BY id')).rows.map(row => row.result), ['success', 'failure', 'failure'])
  })

  t.test(`a turn in flight when its user is erased stores nothing, and leaves no trace, on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const setUpWith = (writer: AnswerWriter) => setUp(db, { answerWriter: writer })
    const first = gatedWriter()
    const { chat, personalData, pseudonym, clock } = setUpWith(first.writer)
    const opened = await chat.handleTurn({ message: 'hello', userId: 'u1' })

    // A question of an existing session, answered (the model writes) while the erasure runs.
    const inSession = chat.handleTurn({ message: 'when does a session expire?', sessionId: opened.sessionId, userId: 'u1' })
    await first.entered
    t.match((await personalData.erase({ userId: 'u1' }, 'key_admin')).erased, { sessions: 1, messages: 2 })
    first.release()
    await t.rejects(inSession, NotFoundError, 'the turn finds its session gone, and stores nothing')

    // A question that opens a session, answered while the user is erased.
    const second = gatedWriter()
    const again = setUpWith(second.writer)
    clock.advance(1000)
    const opening = again.chat.handleTurn({ message: 'when does a session expire?', userId: 'u1' })
    await second.entered
    again.clock.advance(10)
    await again.personalData.erase({ userId: 'u1' }, 'key_admin')
    second.release()
    await t.rejects(opening, ErasedError, 'the turn opens no session for the erased user')
    t.equal(await count(db, 'sessions'), 0, 'no session is left behind')
    t.equal(await count(db, 'messages'), 0, 'nor any message')

    // Their traces, written a moment later by any instance's recorder, are kept out.
    const recorder = new TurnTraceRecorder({ db, maxQueue: 10, retentionDays: 7, now: clock.now })
    const half = { traced: false, turn: null, statusCode: 404, durationMs: 5, logs: [JSON.stringify({ msg: 'chat.message_received', text: 'when does a session expire?' })], error: null, parts: null }
    recorder.addRequest({ ...half, key: 'in-session', sessionId: opened.sessionId, startedAt: clock.now(), userPseudonym: pseudonym('u1') })
    recorder.addRequest({ ...half, key: 'opening', sessionId: '0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b', statusCode: 409, startedAt: again.clock.now(), userPseudonym: pseudonym('u1') })
    await recorder.flush()
    t.equal(await count(db, 'turn_traces'), 0, 'no trace is written back')

    // The user comes back after the erasure: a new conversation, kept.
    again.clock.advance(10)
    const third = gatedWriter()
    const later = setUpWith(third.writer)
    later.clock.advance(MINUTE)
    third.release()
    t.match(await later.chat.handleTurn({ message: 'when does a session expire?', userId: 'u1' }), { turn: 1 })
    t.equal(await count(db, 'sessions', 'user_id = $1', ['u1']), 1)
  })
}

for (const engine of engines().filter(engine => engine.name === 'postgres')) {
  t.test('an erasure waits out a turn holding its session, and neither deadlocks (postgres)', async t => {
    const db = await engine.open(t)
    let triedAgain = false
    const { chat, personalData } = setUp(db, { sleep: async ms => { triedAgain = true; await new Promise(resolve => setTimeout(resolve, ms)) } })
    const opened = await chat.handleTurn({ message: 'hello', userId: 'u1' })
    // A /reset's transaction: it holds the session's row, then takes the lock that opening a session takes.
    let holding!: () => void
    let letGo!: () => void
    const held = new Promise<void>(resolve => { holding = resolve })
    const go = new Promise<void>(resolve => { letGo = resolve })
    const reset = db.transaction(async tx => {
      await tx.query('UPDATE sessions SET turn_count = turn_count + 1 WHERE id = $1', [opened.sessionId])
      holding()
      await go
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.session-caps'))")
      await tx.query("INSERT INTO sessions (id, user_id, created_at, last_activity_at) VALUES ('0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b', 'u1', now(), now())")
    })
    await held
    const erasure = personalData.erase({ userId: 'u1' }, 'key_admin')
    // Waiting for the row while holding the lock the turn is about to take would be a deadlock.
    const waitingForALock = async () => (await db.query('SELECT 1 FROM pg_locks WHERE NOT granted')).rows.length > 0
    t.ok(await waitFor(async () => triedAgain || await waitingForALock()))
    t.ok(triedAgain, 'the erasure lets go of its lock and tries again, rather than wait for the row')
    letGo()
    await t.resolves(reset, 'the turn commits')
    t.match((await erasure).erased, { sessions: 2 }, 'then the erasure, with the session the turn opened')
    t.equal(await count(db, 'sessions'), 0)
  })
}

t.test('retention deletes old conversations in batches, with their traces, and keeps the rest', async t => {
  for (const engine of engines()) {
    await t.test(engine.name, async t => {
      const db = await engine.open(t)
      const { chat, personalData, clock, pseudonym } = setUp(db)
      const old = []
      // A minute apart, the oldest first: a batch takes the least recently used, and ties would
      // leave it to the sessions' random ids which ones go first.
      for (let i = 0; i < 5; i++) {
        old.push(await chat.handleTurn({ message: '/feedback up', userId: `u${i}` }))
        clock.advance(MINUTE)
      }
      const oldTurn = await chat.handleTurn({ message: 'when does a session expire?', userId: 'u0' })
      await chat.handleTurn({ message: '/feedback down', sessionId: oldTurn.sessionId })
      await insertTrace(db, 'trace-old', oldTurn.sessionId, pseudonym('u0'), clock.now())
      clock.advance(31 * MINUTE)
      const cutoff = clock.now()
      const recent = await chat.handleTurn({ message: 'hello', userId: 'u9' })
      await insertTrace(db, 'trace-recent', recent.sessionId, pseudonym('u9'), clock.now())
      clock.advance(31 * MINUTE)
      const stopped = new AbortController()
      stopped.abort()
      t.same(await personalData.deleteConversationsBefore(cutoff, { batchSize: 2, signal: stopped.signal }), { sessions: 2, messages: 4, feedback: 0, turn_traces: 0 }, 'a run told to stop stops after its batch')
      const deleted = await personalData.deleteConversationsBefore(cutoff, { batchSize: 2 })
      t.same(deleted, { sessions: 4, messages: 10, feedback: 1, turn_traces: 1 }, 'the rest, two batches of two, and what was in them')
      t.equal(await count(db, 'sessions'), 1)
      t.same((await db.query('SELECT trace_id FROM turn_traces')).rows, [{ trace_id: 'trace-recent' }])
      const { rows } = await db.query<{ actor: string, details: Record<string, unknown> }>("SELECT actor, details FROM audit_events WHERE action = 'conversations.retention'")
      t.match(rows, [{ actor: 'parley', details: { sessions: 2 } }, { actor: 'parley', details: { sessions: 4, messages: 10 } }], 'one audit entry per run')
      t.same(await personalData.deleteConversationsBefore(cutoff, { batchSize: 2 }), { sessions: 0, messages: 0, feedback: 0, turn_traces: 0 })
      t.equal((await db.query("SELECT 1 FROM audit_events WHERE action = 'conversations.retention'")).rows.length, 2, 'a run that deletes nothing is not audited')
    })
  }
})
