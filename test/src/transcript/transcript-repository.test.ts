// The transcript as a session's turns store it (SessionManager.recordTurn): its pages of messages,
// the question a follow-up is searched with, the answer /feedback rates, ratings that replace each
// other, a user's export, what an erasure deletes and counts, and the analyst's copies scrubbed
// again when the scrubber's rules are newer; on every engine.
import t from 'tap'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import type { Database, Queryable } from '../../../src/db/database.js'
import { scrub } from '../../../src/logging/scrubber.js'
import { SessionManager, type TurnMessages } from '../../../src/sessions/session-manager.js'
import { rescrubMessages, TranscriptRepository } from '../../../src/transcript/transcript-repository.js'
import type { Generation, MessageRecordType } from '../../../src/transcript/transcript-schemas.js'
import { engines, manualClock } from '../../helper.js'

const MINUTE = 60_000
const T0 = new Date('2026-01-15T10:00:00Z')
const iso = (ms: number) => new Date(T0.getTime() + ms).toISOString()
const UNKNOWN = '99999999-9999-4999-8999-999999999999'
const HOURS = { doc_id: 'opening-hours', title: 'Opening hours', score: 2.5, snippet: 'The shop opens at nine.' }
/** A message as list and exportOf return it: a reply is an answer unless told. */
const message = (turn: number, role: 'user' | 'bot', content: string, ms: number, fields: Partial<MessageRecordType> = {}): MessageRecordType =>
  ({ turn, role, content, kind: role === 'user' ? null : 'answer', command: null, sources: [], context_turn: null, created_at: iso(ms), ...fields })
const GENERATION: Generation = { by: 'model', model: 'gpt-test', prompt: 'grounded@3', input_tokens: 120, output_tokens: 30, cost_usd: 0.0006 }

async function setUp (db: Database) {
  const clock = manualClock(T0)
  const limits = { idleTimeoutMs: 24 * 60 * MINUTE, maxAgeMs: 24 * 60 * MINUTE, maxActive: 100, maxPerUser: 100 }
  const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits })
  const transcript = new TranscriptRepository(db)
  const open = async (userId: string | null = 'u1') =>
    (await sessions.transaction((tx, audit) => sessions.create(tx, userId, audit))).id
  /** A turn a minute after the clock's time (its messages' created_at), kind answer unless told. */
  const turn = async (sessionId: string, userText: string, messages: Partial<TurnMessages> = {}) => {
    clock.advance(MINUTE)
    return await sessions.recordTurn(db, sessionId, {
      userText, reply: `Reply to ${userText}`, kind: 'answer', command: null, sources: [], topScore: null, latencyMs: 5, ...messages
    })
  }
  return { clock, sessions, transcript, open, turn }
}

const messageCount = async (db: Queryable) =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0]!.n

for (const engine of engines()) {
  t.test(`${engine.name}: list pages back through a session's turns, both messages each, oldest first`, async t => {
    const db = await engine.open(t)
    const { transcript, open, turn } = await setUp(db)
    const session = await open()
    const other = await open('u2')
    t.same(await transcript.list(session, { turns: 5 }), [], 'no turns yet')
    await turn(session, 'When does the shop open?', { sources: [HOURS], topScore: 2.5 }) // 10:01
    await turn(other, 'Not this session') // 10:02
    await turn(session, 'and on Sundays?', { kind: 'no_answer', contextTurn: 1 }) // 10:03
    await turn(session, '/help', { kind: 'command', command: 'help', reply: 'Commands: …' }) // 10:04
    await turn(session, 'hello', { kind: 'smalltalk', reply: 'Hello!' }) // 10:05

    const latest = await transcript.list(session, { turns: 2 })
    t.same(latest, [
      message(3, 'user', '/help', 4 * MINUTE),
      message(3, 'bot', 'Commands: …', 4 * MINUTE, { kind: 'command', command: 'help' }),
      message(4, 'user', 'hello', 5 * MINUTE),
      message(4, 'bot', 'Hello!', 5 * MINUTE, { kind: 'smalltalk' })
    ], 'the latest two turns, the question before its reply')
    const earlier = await transcript.list(session, { turns: 2, before: 3 })
    t.same(earlier.map(m => `${m.turn}:${m.role}`), ['1:user', '1:bot', '2:user', '2:bot'], 'the page before turn 3')
    t.same(earlier[1], message(1, 'bot', 'Reply to When does the shop open?', MINUTE, { sources: [HOURS] }), 'a reply with its sources')
    t.equal(earlier[3]?.context_turn, 1, 'a follow-up\'s reply names the turn it was searched with')
    t.same((await transcript.list(session, { turns: 1, before: 2 })).map(m => `${m.turn}:${m.role}`), ['1:user', '1:bot'])
    t.same(await transcript.list(session, { turns: 5, before: 1 }), [], 'nothing before the first turn')
    t.same((await transcript.list(session, { turns: 50 })).map(m => m.turn), [1, 1, 2, 2, 3, 3, 4, 4], 'all of them, and only this session\'s')
    t.same(await transcript.list(UNKNOWN, { turns: 5 }), [])
  })

  t.test(`${engine.name}: previousQuestion is the latest searched question, a follow-up's with its context`, async t => {
    const db = await engine.open(t)
    const { transcript, open, turn } = await setUp(db)
    const session = await open()
    await turn(session, '/help', { kind: 'command', command: 'help' })
    await turn(session, 'hello', { kind: 'smalltalk' })
    t.equal(await transcript.previousQuestion(session), undefined, 'commands and small talk are not searched questions')

    await turn(session, 'When does the shop open?') // turn 3
    await turn(session, 'thanks', { kind: 'smalltalk' })
    await turn(session, '/history', { kind: 'command', command: 'history' })
    await turn(session, '/feedback', { kind: 'command_error', command: 'feedback' })
    t.same(await transcript.previousQuestion(session), { turn: 3, text: 'When does the shop open?' }, 'the turns since were not searched')

    await turn(session, 'Do you sell bicycles?', { kind: 'no_answer' }) // turn 7
    t.same(await transcript.previousQuestion(session), { turn: 7, text: 'Do you sell bicycles?' }, 'an unanswered question counts too')

    await turn(session, 'and on Sundays?', { contextTurn: 3 }) // turn 8
    t.same(await transcript.previousQuestion(session), { turn: 8, text: 'When does the shop open? and on Sundays?' },
      'a follow-up keeps the topic of the question it was searched with')
    await turn(session, 'and on Saturdays?', { contextTurn: 8 }) // turn 9
    await turn(session, 'and on holidays?', { contextTurn: 9 }) // turn 10
    t.same(await transcript.previousQuestion(session), { turn: 10, text: 'When does the shop open? and on holidays?' },
      'a chain of follow-ups keeps the topic of the question it began with')

    const other = await open('u2')
    t.equal(await transcript.previousQuestion(other), undefined, 'another session\'s questions are not its own')
    await turn(other, 'and on Sundays?', { contextTurn: 11 })
    t.same(await transcript.previousQuestion(other), { turn: 1, text: 'and on Sundays?' }, 'a context turn the session does not have adds nothing')
  })

  t.test(`${engine.name}: lastAnswer is the latest answer or refusal, with its trace and how it was written`, async t => {
    const db = await engine.open(t)
    const { transcript, open, turn } = await setUp(db)
    const session = await open()
    t.equal(await transcript.lastAnswer(session), undefined, 'nothing to rate yet')
    await turn(session, 'When does the shop open?', { traceId: 'trace-1', generation: GENERATION })
    await turn(session, '/help', { kind: 'command', command: 'help', traceId: 'trace-2' })
    await turn(session, 'hello', { kind: 'smalltalk', traceId: 'trace-3' })
    await turn(session, '/feedback sideways', { kind: 'command_error', command: 'feedback', traceId: 'trace-4' })
    t.same(await transcript.lastAnswer(session), { turn: 1, traceId: 'trace-1', generation: GENERATION },
      'the /help, small-talk and failed-command turns after it are skipped')
    await turn(session, 'Do you sell bicycles?', { kind: 'no_answer' })
    t.same(await transcript.lastAnswer(session), { turn: 5, traceId: null, generation: null }, 'a refusal, untraced and written by no model')
    t.equal(await transcript.lastAnswer(await open('u2')), undefined, 'nor another session\'s')
  })

  t.test(`${engine.name}: recordFeedback replaces a turn's rating; exportOf lists messages and ratings by session`, async t => {
    const db = await engine.open(t)
    const { transcript, open, turn } = await setUp(db)
    const session = await open()
    const other = await open('u2')
    const empty = await open('u3')
    await turn(session, 'When does the shop open?') // 10:01
    await turn(session, 'Do you sell bicycles?', { kind: 'no_answer' }) // 10:02
    await turn(other, 'Where is my parcel?') // 10:03
    const rate = (sessionId: string, turnNo: number, rating: 'up' | 'down', comment: string | null, ms: number) =>
      transcript.recordFeedback(db, { sessionId, turn: turnNo, rating, comment, at: new Date(T0.getTime() + ms) })
    await rate(session, 2, 'down', 'no bicycles?', 10 * MINUTE)
    await rate(session, 1, 'up', 'clear', 11 * MINUTE)
    await rate(session, 1, 'down', null, 12 * MINUTE) // changed their mind
    await rate(other, 1, 'up', null, 13 * MINUTE)

    const exported = await transcript.exportOf([other, UNKNOWN, session, empty])
    t.same([...exported.keys()], [other, UNKNOWN, session, empty], 'every session asked about, in the order asked, even one unknown')
    const mine = exported.get(session)!
    t.same(mine.feedback, [
      { turn: 1, rating: 'down', comment: null, created_at: iso(12 * MINUTE) },
      { turn: 2, rating: 'down', comment: 'no bicycles?', created_at: iso(10 * MINUTE) }
    ], 'turn 1\'s second rating replaced its first, comment and time included; by turn')
    t.same(mine.messages.map(m => `${m.turn}:${m.role}:${m.content}:${m.created_at}`), [
      `1:user:When does the shop open?:${iso(MINUTE)}`,
      `1:bot:Reply to When does the shop open?:${iso(MINUTE)}`,
      `2:user:Do you sell bicycles?:${iso(2 * MINUTE)}`,
      `2:bot:Reply to Do you sell bicycles?:${iso(2 * MINUTE)}`
    ])
    t.same(exported.get(other), {
      messages: [
        message(1, 'user', 'Where is my parcel?', 3 * MINUTE),
        message(1, 'bot', 'Reply to Where is my parcel?', 3 * MINUTE)
      ],
      feedback: [{ turn: 1, rating: 'up', comment: null, created_at: iso(13 * MINUTE) }]
    })
    t.same(exported.get(UNKNOWN), { messages: [], feedback: [] })
    t.same(exported.get(empty), { messages: [], feedback: [] })
    t.same(await transcript.exportOf([]), new Map(), 'no sessions: an empty map')
  })

  t.test(`${engine.name}: deleteOf deletes these sessions' messages and ratings, and counts them`, async t => {
    const db = await engine.open(t)
    const { transcript, open, turn } = await setUp(db)
    const [a, b, kept] = [await open('u1'), await open('u1'), await open('u2')]
    for (const text of ['one', 'two', 'three']) await turn(a, text)
    await turn(b, 'four')
    await turn(kept, 'five')
    await turn(kept, 'six')
    const rate = (sessionId: string, turnNo: number) =>
      transcript.recordFeedback(db, { sessionId, turn: turnNo, rating: 'up', comment: null, at: T0 })
    await rate(a, 1)
    await rate(a, 3)
    await rate(kept, 2)

    t.same(await db.transaction(async tx => await transcript.deleteOf(tx, [])), { messages: 0, feedback: 0 }, 'no sessions')
    await t.rejects(db.transaction(async tx => {
      t.same(await transcript.deleteOf(tx, [a]), { messages: 6, feedback: 2 })
      throw new Error('the erasure failed later')
    }), { message: 'the erasure failed later' })
    t.equal(await messageCount(db), 12, 'rolled back with the caller\'s transaction')

    t.same(await db.transaction(async tx => await transcript.deleteOf(tx, [a, b, UNKNOWN])), { messages: 8, feedback: 2 })
    t.equal((await transcript.list(a, { turns: 10 })).length + (await transcript.list(b, { turns: 10 })).length, 0)
    const left = (await transcript.exportOf([kept])).get(kept)!
    t.same(left.messages.map(m => m.content), ['five', 'Reply to five', 'six', 'Reply to six'], 'the other session\'s messages kept')
    t.same(left.feedback, [{ turn: 2, rating: 'up', comment: null, created_at: T0.toISOString() }], 'and its rating')
    t.equal(await messageCount(db), 4, 'no other message left')
    t.same(await transcript.deleteOf(db, [a, b]), { messages: 0, feedback: 0 }, 'again: nothing left to count')
  })

  t.test(`${engine.name}: userTexts are what users wrote, as written and as scrubbed`, async t => {
    const db = await engine.open(t)
    const { transcript, open, turn } = await setUp(db)
    const [a, b, c] = [await open('u1'), await open('u1'), await open('u2')]
    await turn(a, 'My email is anna@example.com, can you mail the invoice?', { reply: 'We will write to anna@example.com.' })
    await turn(a, 'When does the shop open?')
    await turn(b, 'Write to bob@example.org')
    await turn(c, 'Not one of theirs')
    const texts = await transcript.userTexts(db, [a, b])
    const byContent = (x: { content: string }, y: { content: string }) => x.content.localeCompare(y.content)
    t.same(texts.sort(byContent), [
      { content: 'My email is anna@example.com, can you mail the invoice?', scrubbed: 'My email is [EMAIL], can you mail the invoice?' },
      { content: 'When does the shop open?', scrubbed: null },
      { content: 'Write to bob@example.org', scrubbed: 'Write to [EMAIL]' }
    ], 'the users\' messages only, not the replies; null where scrubbing changed nothing')
    t.same(await transcript.userTexts(db, []), [])
    t.same(await transcript.userTexts(db, [UNKNOWN]), [])
  })

  t.test(`${engine.name}: rescrubMessages scrubs every message again, in batches, only for newer rules`, async t => {
    const db = await engine.open(t)
    const { transcript, open, turn } = await setUp(db)
    const session = await open()
    await turn(session, 'My email is anna@example.com', { reply: 'Noted.' })
    await turn(session, 'Meet me on Tuesday', { reply: 'Tuesday it is.' })
    await turn(session, 'When does the shop open?', { reply: 'At nine.' })
    const searchTexts = async () => (await db.query<{ content: string, search_text: string | null }>(
      'SELECT content, search_text FROM messages ORDER BY id')).rows.map(row => row.search_text)
    t.same(await searchTexts(), ['My email is [EMAIL]', null, null, null, null, null], 'as stored: scrubbed by the rules of the day')

    let scrubbed = 0
    const newerRules = (text: string) => { scrubbed++; return scrub(text).replaceAll('Tuesday', '[DAY]') }
    t.equal(await rescrubMessages(db, newerRules, 1), 0, 'a database without a recorded version was scrubbed by version 1')
    t.equal(scrubbed, 0, 'nothing read')

    // A pass-through that counts the statements, to see the batches.
    const statements: Array<{ sql: string, params: unknown[] }> = []
    const counted: Queryable = {
      query: async (sql, params, options) => { statements.push({ sql, params: params ?? [] }); return await db.query(sql, params, options) },
      exec: async sql => { await db.exec(sql) }
    }
    t.equal(await rescrubMessages(counted, newerRules, 2, 4), 6, 'all six messages')
    t.equal(scrubbed, 6)
    t.same(await searchTexts(), ['My email is [EMAIL]', null, 'Meet me on [DAY]', '[DAY] it is.', null, null],
      'the user\'s and the bot\'s messages alike; null where nothing changed')
    const selects = statements.filter(s => /^\s*SELECT id::text/.test(s.sql))
    const updates = statements.filter(s => /^\s*UPDATE messages/.test(s.sql))
    t.same(selects.map(s => s.params[2]), [4, 4, 4], 'batches of four: four, two, then none')
    const lastId = (updates.at(-1)!.params[0] as string[]).at(-1)
    t.same(selects.map(s => s.params[1]), [lastId, lastId, lastId], 'the walk ends at the last message there was when it began')
    t.same(updates.map(s => (s.params[0] as unknown[]).length), [4, 2], 'each batch written in one statement')
    const written = updates.map(s => s.params[0] as string[])
    t.same(selects.map(s => s.params[0]), ['0', written[0]![3], written[1]![1]], 'each batch after the last id of the one before')

    scrubbed = 0
    t.equal(await rescrubMessages(db, newerRules, 2), 0, 'version 2 is recorded: not again')
    t.equal(await rescrubMessages(db, newerRules, 1), 0, 'nor for older rules')
    t.equal(scrubbed, 0)

    await turn(session, 'See you on Tuesday', { reply: 'See you.' }) // stored by today's rules, which leave Tuesday in
    const newestRules = (text: string) => scrub(text).replaceAll('Tuesday', '[DAY]').replaceAll('shop', '[PLACE]')
    t.equal(await rescrubMessages(db, newestRules, 3, 3), 8, 'version 3: the eight messages there are now')
    t.same(await searchTexts(), [
      'My email is [EMAIL]', null, 'Meet me on [DAY]', '[DAY] it is.', 'When does the [PLACE] open?', null, 'See you on [DAY]', null
    ])
    const question = (await transcript.userTexts(db, [session])).find(text => text.content === 'When does the shop open?')
    t.same(question, { content: 'When does the shop open?', scrubbed: 'When does the [PLACE] open?' }, 'as userTexts reads it')
    t.equal(await rescrubMessages(db, newestRules, 3), 0, 'version 3 recorded')
  })
}
