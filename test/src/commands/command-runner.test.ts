// Each command's reply, on a real transcript (PGlite) and a real search engine.
import t from 'tap'
import { HISTORY_QUOTE_GRAPHEMES, runCommand, type CommandContext } from '../../../src/commands/command-runner.js'
import { helpText, parseMessage, type Command } from '../../../src/commands/command-parser.js'
import { TranscriptRepository } from '../../../src/transcript/transcript-repository.js'
import { SearchEngine } from '../../../src/search/search-engine.js'
import { splitIntoPassages } from '../../../src/search/passages.js'
import { SessionManager } from '../../../src/sessions/session-manager.js'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import { manualClock, openTestPGlite } from '../../helper.js'

function command (text: string): Command {
  const parsed = parseMessage(text)
  if (parsed.type !== 'command') throw new Error(`${text} is not a command`)
  return parsed.command
}

t.test('help, search, history, reset and feedback, before and after a session has turns', async t => {
  const db = await openTestPGlite(t)
  const clock = manualClock()
  const engine = new SearchEngine()
  engine.upsert({ id: 'returns', title: 'Returns', passages: splitIntoPassages('Items can be returned within thirty days.') })
  const sessions = new SessionManager({ db, now: clock.now, auditTrail: new AuditTrail({ db }), limits: { idleTimeoutMs: 60_000, maxAgeMs: 3_600_000, maxActive: 10, maxPerUser: 2 } })
  const context: CommandContext = { help: helpText, search: (query, k) => engine.search(query, k), collections: () => ['default', 'faq'], transcript: new TranscriptRepository(db) }

  t.match(await runCommand(command('/help search'), undefined, context), { kind: 'command', command: 'help', text: helpText('search') })
  t.match(await runCommand(command('/search returned'), undefined, context),
    { kind: 'command', text: /^Top 1 for "returned":\n1\. Returns \(score [\d.]+\): Items can be returned/, sources: [{ doc_id: 'returns' }], topScore: Number })
  t.match(await runCommand(command('/search bicycles'), undefined, context), { text: 'No documents match "bicycles".', sources: [], topScore: null })
  t.match(await runCommand(command('/search returned --in fqa'), undefined, context),
    { kind: 'command_error', text: 'No collection "fqa" to search: the collections are default, faq.', sources: [] }, 'a misspelt collection is named')
  t.match(await runCommand(command('/search returned --in faq'), { id: 's', turnCount: 0 }, { ...context, collections: () => [] }),
    { kind: 'command_error', text: 'No collection "faq" to search: there are none yet.' })
  t.match(await runCommand(command('/history'), undefined, context), { kind: 'command', text: 'This session has no history yet.' })
  t.match(await runCommand(command('/reset'), undefined, context), { kind: 'command', reset: true })
  t.match(await runCommand(command('/feedback up'), undefined, context), { kind: 'command_error', command: 'feedback' }, 'nothing to rate')

  const session = await sessions.create(db, 'u1', async () => {}, { turnStartedAt: clock.now() })
  const long = 'x'.repeat(3 * HISTORY_QUOTE_GRAPHEMES)
  await sessions.recordTurn(db, session.id, { userText: 'Can I return it?', reply: long, kind: 'answer', command: null, sources: [], topScore: 1, latencyMs: 1, traceId: 'trace-1' })
  await sessions.recordTurn(db, session.id, { userText: '/help', reply: 'Commands…', kind: 'command', command: 'help', sources: [], topScore: null, latencyMs: 1 })
  const live = { id: session.id, turnCount: 2 }

  const history = await runCommand(command('/history 5'), live, context)
  t.match(history.text, /^Last 2 turn\(s\) of this session:\n\[1\] You: Can I return it\?\n\[1\] Bot: x+… \(600 characters\)\n\[2\] You: \/help/)
  t.ok(history.text.split('\n')[2]!.length < HISTORY_QUOTE_GRAPHEMES + 40, 'a long reply is quoted, not copied whole')
  t.match(await runCommand(command('/feedback down too long'), live, context), {
    kind: 'command',
    text: /turn 1/,
    feedback: { turn: 1, rating: 'down', comment: 'too long', rated: { traceId: 'trace-1', generation: null } }
  }, 'the latest answer is rated, not the /help turn after it')
})
