// How the bot is used, from chatbot.log alone (real files): turns by kind, answer rate, sessions,
// users, commands, feedback as the database counts it, the language model's calls, and the
// unanswered questions grouped by the words that matter.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { addModelCalls, analyzeUsage, groupQuestions, TOP_QUESTIONS } from '../../../src/analysis/usage-report.js'
import type { Period } from '../../../src/analysis/log-scan.js'
import { tempDir } from '../../helper.js'

const PERIOD: Period = { from: new Date('2026-11-20T00:00:00.000Z'), to: new Date('2026-11-21T00:00:00.000Z') }
let second = 0
const at = (): string => new Date(PERIOD.from.getTime() + 3_600_000 + 1000 * second++).toISOString()
const line = (msg: string, fields: Record<string, unknown> = {}): string => JSON.stringify({ level: 'info', time: at(), msg, ...fields })
const asked = (req: string, text: string, input = 'question'): string => line('chat.message_received', { req_id: req, text, input })
const replied = (req: string | undefined, kind: string, fields: Record<string, unknown> = {}): string => line('chat.reply_sent', { ...(req === undefined ? {} : { req_id: req }), kind, ...fields })

t.test('addModelCalls: written calls, fallbacks by reason, tokens and cost add up', async t => {
  let usage = addModelCalls(undefined, { count: 2, inputTokens: 100, outputTokens: 40, costUsd: 0.002 })
  t.same(usage, { calls: 2, written: 2, fallbacks: {}, input_tokens: 100, output_tokens: 40, cost_usd: 0.002 })
  usage = addModelCalls(usage, { count: 1, reason: 'timeout' })
  usage = addModelCalls(usage, { count: 3, reason: 'timeout', inputTokens: 10 })
  usage = addModelCalls(usage, { count: 1, reason: 'refused' })
  t.same(usage, { calls: 7, written: 2, fallbacks: { timeout: 4, refused: 1 }, input_tokens: 110, output_tokens: 40, cost_usd: 0.002 })
  const given = addModelCalls(undefined, { count: 0 })
  t.equal(addModelCalls(given, { count: 1 }), given, 'adds into the object given')
})

t.test('groupQuestions: alike wordings under the most asked one, most asked groups first', async t => {
  const groups = groupQuestions(new Map([
    ['how do I reset my password', 3],
    ['reset password how', 4],
    ['password reset', 1],
    ['export my data', 3],
    ['export data', 1],
    ['can I export data', 1],
    ['what is the weather', 1]
  ]))
  t.same(groups, [
    { example: 'reset password how', count: 8, variants: 3 },
    { example: 'export my data', count: 4, variants: 2 },
    { example: 'can I export data', count: 1, variants: 1 },
    { example: 'what is the weather', count: 1, variants: 1 }
  ], '"can I export data" shares 2 of 5 terms with "export my data": apart')
  t.same(groupQuestions(new Map()), [])
})

t.test('groupQuestions: alike means half the terms shared or more (Jaccard)', async t => {
  // Terms as the analyzer makes them: "alpha beta gamma" and "alpha beta delta" share 2 of 4.
  t.same(groupQuestions(new Map([['alpha beta gamma', 2], ['alpha beta delta', 1]])), [{ example: 'alpha beta gamma', count: 3, variants: 2 }], 'exactly one half')
  t.same(groupQuestions(new Map([['alpha beta', 2], ['alpha delta', 1]])).length, 2, 'one of three shared: apart')
  t.same(groupQuestions(new Map([['the', 2], ['is it', 1]])), [{ example: 'the', count: 2, variants: 1 }, { example: 'is it', count: 1, variants: 1 }], 'only stopwords: no terms, never grouped')
})

t.test(`groupQuestions: the top ${TOP_QUESTIONS} only`, async t => {
  const words = ['billing', 'invoice', 'refund', 'account', 'password', 'export', 'import', 'language', 'timezone', 'webhook', 'sso', 'mobile']
  const groups = groupQuestions(new Map(words.map((word, i) => [word, i + 1])))
  t.equal(groups.length, TOP_QUESTIONS)
  t.same(groups.map(group => group.example), [...words].reverse().slice(0, TOP_QUESTIONS))
})

t.test('analyzeUsage: the period\'s turns, sessions, users, commands, feedback and model calls', async t => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'chatbot.2026-11-20.1.log'), [
    line('session.created'),
    line('session.created'),
    asked('r1', 'how do I reset my password'),
    replied('r1', 'answer', { session_id: 's1', user_id: 'u_1' }),
    asked('r2', 'what does the blue button do'),
    replied('r2', 'no_answer', { session_id: 's1', user_id: 'u_1' }),
    asked('r3', 'what does the blue button do?'),
    replied('r3', 'no_answer', { session_id: 's2', user_id: 'u_2' }),
    asked('r4', '/feedback up', 'command'),
    replied('r4', 'command', { session_id: 's2', user_id: 'u_2', command: 'feedback', rating: 'up', rated_turn: 1 }),
    replied('r5', 'command', { session_id: 's2', user_id: 'u_2', command: 'feedback', rating: 'down', rated_turn: 1 }),
    replied('r6', 'command', { session_id: 's1', command: 'feedback', rating: 'down', rated_turn: 1 }),
    replied(undefined, 'command', { command: 'feedback', rating: 'up' }),
    replied(undefined, 'command', { command: 'feedback', rating: 'up' }),
    replied('r7', 'command', { session_id: 's2', command: 'help' }),
    replied('r8', 'small_talk', { session_id: 's3' }),
    replied('r9', 'no_answer', { session_id: 's3' }),
    asked('r10', 'no reply was logged for this one'),
    replied('r11', 'answer'),
    line('llm.answer_written', { input_tokens: 120, output_tokens: 30, cost_usd: 0.001 }),
    line('llm.answer_written', { input_tokens: 80, output_tokens: 20, cost_usd: 0.0005 }),
    line('llm.fallback', { reason: 'timeout', input_tokens: 100 }),
    line('chat.something_else', { kind: 'answer' }),
    'not a json line',
    JSON.stringify({ level: 'info', time: '2026-11-21T00:00:00.000Z', msg: 'chat.reply_sent', kind: 'answer', session_id: 'late' })
  ].join('\n') + '\n')
  const report = await analyzeUsage({ dir, period: PERIOD })
  t.equal(report.turns, 12)
  t.same(report.turns_by_kind, { answer: 2, no_answer: 3, command: 6, small_talk: 1 })
  t.equal(report.answer_rate, 2 / 5, 'answers over questions (answers and no-answers)')
  t.equal(report.sessions_started, 2)
  t.equal(report.sessions_active, 3)
  t.equal(report.active_users, 2)
  t.equal(report.turns_per_session, 12 / 3)
  t.same(report.commands, { feedback: 5, help: 1 })
  t.same(report.feedback, { up: 2, down: 2 }, 'a turn re-rated counts once, as last rated; ratings without a rated turn each count')
  t.same(report.unanswered, [{ example: 'what does the blue button do', count: 2, variants: 2 }], 'the scrubbed question text of each no-answer, grouped')
  t.equal(report.unanswered_without_text, 1, 'a no-answer whose question line was not found')
  t.same(report.language_model, { calls: 3, written: 2, fallbacks: { timeout: 1 }, input_tokens: 300, output_tokens: 50, cost_usd: 0.0015 })
  t.same(report.period, PERIOD)
  t.equal(report.stats.badLines, 1)
  t.equal(report.stats.files, 1)
})

t.test('analyzeUsage: a period with nothing leaves the rates out rather than dividing by zero', async t => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'chatbot.2026-11-20.1.log'), [replied('r1', 'command', { command: 'help' }), line('session.created')].join('\n') + '\n')
  const report = await analyzeUsage({ dir, period: PERIOD })
  t.equal(report.turns, 1)
  t.equal(report.answer_rate, undefined, 'no questions')
  t.equal(report.turns_per_session, undefined, 'no session named')
  t.equal(report.language_model, undefined, 'the model was asked nothing')
  t.same(report.feedback, { up: 0, down: 0 })
  const empty = await analyzeUsage({ dir: await tempDir(t), period: PERIOD })
  t.equal(empty.turns, 0)
  t.same(empty.unanswered, [])
})
