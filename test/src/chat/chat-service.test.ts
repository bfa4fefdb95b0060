// The chat turn without Fastify: the domain objects wired by hand, as the plugins wire them.
import t from 'tap'
import { ChatService } from '../../../src/chat/chat-service.js'
import { HISTORY_QUOTE_GRAPHEMES } from '../../../src/commands/command-runner.js'
import { helpText, parseMessage } from '../../../src/commands/command-parser.js'
import { TranscriptRepository } from '../../../src/transcript/transcript-repository.js'
import type { Decision } from '../../../src/transcript/transcript-schemas.js'
import { SearchEngine } from '../../../src/search/search-engine.js'
import { splitIntoPassages } from '../../../src/search/passages.js'
import { SessionManager } from '../../../src/sessions/session-manager.js'
import { NotFoundError } from '../../../src/errors.js'
import { manualClock, openTestPGlite } from '../../helper.js'
import { AuditTrail } from '../../../src/audit/audit-trail.js'

t.test('a turn: session, parse, search or command, persist, reply', async t => {
  const db = await openTestPGlite(t)
  const clock = manualClock()
  const searchEngine = new SearchEngine()
  const documents = [
    ['opening-hours', 'Opening hours', 'The shop opens at nine and closes at five on weekdays.'],
    ['returns', 'Returns', 'Items can be returned within thirty days with the receipt.'],
    ['delivery', 'Delivery', 'Parcels are delivered within two working days.'],
    ['payment', 'Payment', 'We accept cards and bank transfers.']
  ]
  for (const [id, title, text] of documents) searchEngine.upsert({ id: id!, title: title!, passages: splitIntoPassages(text!) })
  const sessionManager = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 60_000, maxAgeMs: 3_600_000, maxActive: 10, maxPerUser: 2 } })
  const transcript = new TranscriptRepository(db)
  const commandParser = { parse: parseMessage, help: helpText }
  const chat = new ChatService({ db, sessionManager, transcript, searchEngine, commandParser, now: clock.now })

  const first = await chat.handleTurn({ message: 'When does the shop open?', userId: 'u1' })
  t.match(first, { turn: 1, kind: 'answer', reply: /opens at nine[\s\S]*Source: Opening hours$/, sources: [{ doc_id: 'opening-hours', title: 'Opening hours' }] })
  t.notOk('command' in first)
  t.same(first.sources.map(source => [source.doc_id, source.cited]), [['opening-hours', true], ...first.sources.slice(1).map(source => [source.doc_id, false])],
    'the passage quoted is the one cited; any other document found is not')

  const miss = await chat.handleTurn({ message: 'Do you sell bicycles?', sessionId: first.sessionId })
  t.match(miss, { turn: 2, kind: 'no_answer', sources: [] })

  const rated = await chat.handleTurn({ message: '/feedback down wrong hours', sessionId: first.sessionId })
  t.match(rated, { turn: 3, kind: 'command', command: 'feedback', reply: /turn 2/ }, 'feedback rates the latest answer, even a no_answer')

  const stored = await transcript.list(first.sessionId, { turns: 10 })
  t.same(stored.find(m => m.turn === 1 && m.role === 'bot')?.sources, first.sources, 'the transcript keeps which was cited')
  t.same(stored.map(m => `${m.turn}:${m.role}:${m.kind ?? '-'}`), ['1:user:-', '1:bot:answer', '2:user:-', '2:bot:no_answer', '3:user:-', '3:bot:command'])
  const { rows } = await db.query<{ top_score: number | null, latency_ms: number }>("SELECT top_score, latency_ms FROM messages WHERE role = 'bot' ORDER BY turn")
  t.ok(rows[0]!.top_score! > 0.5 && rows.every(r => r.latency_ms >= 0), 'each reply stores its top score and latency for later analysis')
  const { rows: decisions } = await db.query<{ decision: Decision | null }>("SELECT decision FROM messages WHERE role = 'bot' ORDER BY turn")
  t.match(decisions[0]!.decision, { confidence: Number, threshold: 0.5, coverage: Number, unseen: Number }, 'an answer keeps why: its confidence, threshold and measures')
  t.ok(decisions[0]!.decision!.confidence >= 0.5)
  t.ok(decisions[1]!.decision === null || decisions[1]!.decision.confidence < 0.5, 'a refusal keeps why too, when it searched')
  t.equal(decisions[2]!.decision, null, 'a command has no decision')

  clock.advance(61_000)
  await t.rejects(chat.handleTurn({ message: 'still there?', sessionId: first.sessionId }), NotFoundError)
})

t.test('/history quotes the beginning of each message, so that repeating it cannot grow the session', async t => {
  const db = await openTestPGlite(t)
  const clock = manualClock()
  const sessionManager = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 60_000, maxAgeMs: 3_600_000, maxActive: 10, maxPerUser: 2 } })
  const chat = new ChatService({ db, sessionManager, transcript: new TranscriptRepository(db), searchEngine: new SearchEngine(), commandParser: { parse: parseMessage, help: helpText }, now: clock.now })
  const first = await chat.handleTurn({ message: 'x'.repeat(4000) })
  const sizes: number[] = []
  for (let i = 0; i < 12; i++) sizes.push((await chat.handleTurn({ message: '/history 50', sessionId: first.sessionId })).reply.length)
  t.match((await chat.handleTurn({ message: '/history 1', sessionId: first.sessionId })).reply, /Bot: Last [\s\S]*… \(\d[\d,]* characters\)/, 'an earlier reply is quoted by its beginning and its length')
  t.ok(sizes.every(size => size <= 2 * 50 * (HISTORY_QUOTE_GRAPHEMES + 30)), `every reply within its bound (largest ${Math.max(...sizes)} characters)`)
  const growth = sizes.slice(1).map((size, i) => size - sizes[i]!)
  t.ok(growth.every(added => added <= 2 * (HISTORY_QUOTE_GRAPHEMES + 30)), `each /history adds one turn's quotes, not the last reply again (at most ${Math.max(...growth)})`)
})
