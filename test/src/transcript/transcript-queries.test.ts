// The transcript read across sessions, on turns stored as a session stores them (recordTurn, at
// times a manual clock sets) and turn traces as the recorder leaves them: the model's spend, the
// alerts' quality counts, the usage report's rows, latency by hour, day or period, the console's
// list of turns with each filter and its pages, and one conversation; on every engine.
import t from 'tap'
import type { Database } from '../../../src/db/database.js'
import {
  conversationTurns, feedbackCounts, modelSpendSince, qualityCountsSince, turnLatencyRows, turnList,
  usageRows, type TurnFilter, type TurnListRow
} from '../../../src/transcript/transcript-queries.js'
import type { Generation, Source } from '../../../src/transcript/transcript-schemas.js'
import { engines } from '../../helper.js'
import { at, DAY, HOUR, MINUTE, T0, transcriptFixture } from './transcript-fixture.js'

const UNKNOWN = '99999999-9999-4999-8999-999999999999'

const source = (docId: string, title: string): Source => ({ doc_id: docId, title, score: 1.5, snippet: `About ${title}` })
const HOURS = source('opening-hours', 'Opening hours')
const RETURNS = source('returns', 'Returns')
const DELIVERY = source('delivery', 'Delivery')
const INVOICES = source('invoices', 'Invoices')
const model = (generation: Partial<Generation>): Generation => ({ by: 'model', model: 'gpt-test', prompt: 'grounded@3', ...generation })

/** Percentiles come back as float8: compared to a millionth. */
const round = (value: number | null) => value === null ? null : Math.round(value * 1e6) / 1e6

const setUp = transcriptFixture

interface Trace {
  trace: string
  session: string | null
  turn: number | null
  ms: number
  duration: number
  status?: 'ok' | 'error'
  text?: string
  pseudonym?: string
}

/** A turn trace as the recorder stores it, with the message's log line when `text` is given. */
async function trace (db: Database, row: Trace): Promise<void> {
  const logs = [{ msg: 'chat.turn_started' }, ...row.text === undefined ? [] : [{ msg: 'chat.message_received', text: row.text }]]
  await db.query(`INSERT INTO turn_traces
    (trace_id, session_id, turn, status, status_code, started_at, duration_ms, spans, logs, user_pseudonym)
    VALUES ($1, $2, $3, $4, $5, $6, $7, '[]'::json, $8::json, $9)`,
  [row.trace, row.session, row.turn, row.status ?? 'ok', row.status === 'error' ? 500 : 200, at(row.ms), row.duration,
    JSON.stringify(logs), row.pseudonym ?? null])
}

for (const engine of engines()) {
  t.test(`${engine.name}: modelSpendSince adds up the cost each stored answer kept, from a time on`, async t => {
    const db = await engine.open(t)
    const { open, turn } = await setUp(db)
    t.same(await modelSpendSince(db, T0), { spent: 0, settled: 0 }, 'nothing spent yet')
    const session = await open('u1')
    await turn(-HOUR, session, 'earlier', { generation: model({ cost_usd: 1 }) })
    await turn(0, session, 'first', { generation: model({ cost_usd: 0.25 }) })
    await turn(30 * MINUTE, session, 'fell back', { generation: model({ by: 'extractive', fallback_reason: 'timeout' }) })
    await turn(HOUR, session, 'second', { generation: model({ cost_usd: 0.5 }) })
    await turn(90 * MINUTE, session, 'no model', { kind: 'no_answer' })
    t.same(await modelSpendSince(db, T0), { spent: 0.75, settled: 0 }, 'from its time on, that turn included; a call without a cost adds nothing')
    t.same(await modelSpendSince(db, at(-HOUR)), { spent: 1.75, settled: 0 })
    t.same(await modelSpendSince(db, at(HOUR)), { spent: 0.5, settled: 0 })
    t.same(await modelSpendSince(db, at(HOUR + 1)), { spent: 0, settled: 0 })
    t.same(await modelSpendSince(db, at(-HOUR), at(HOUR)), { spent: 1.75, settled: 1.25 }, 'settled: the part stamped before the second time')
  })

  t.test(`${engine.name}: qualityCountsSince counts questions, answers, topics and ratings down by bucket`, async t => {
    const db = await engine.open(t)
    const { open, turn, rate } = await setUp(db)
    const a = await open('u1')
    const b = await open('u2')
    await turn(-1, a, 'before', { kind: 'no_answer', sources: [RETURNS] }) // a 1
    await turn(0, a, 'answered', { sources: [HOURS] }) // a 2
    await turn(10_000, a, 'refused near returns', { kind: 'no_answer', sources: [RETURNS] }) // a 3
    await turn(20_000, b, 'refused near nothing', { kind: 'no_answer' }) // b 1
    await turn(30_000, b, '/help', { kind: 'command', command: 'help', sources: [RETURNS] }) // b 2
    await turn(40_000, b, 'hello', { kind: 'smalltalk' }) // b 3
    await turn(70_000, a, 'refused near returns again', { kind: 'no_answer', sources: [RETURNS] }) // a 4
    await turn(80_000, b, 'refused near delivery', { kind: 'no_answer', sources: [DELIVERY, RETURNS] }) // b 4
    await rate(-1, a, 1, 'down')
    await rate(15_000, a, 2, 'down')
    await rate(16_000, a, 3, 'up')
    await rate(75_000, b, 4, 'down')

    const bucket = (ms: number, size: number) => String(Math.floor(at(ms).getTime() / size))
    const sorted = (rows: Awaited<ReturnType<typeof qualityCountsSince>>) =>
      rows.sort((x, y) => x.bucket.localeCompare(y.bucket) || x.what.localeCompare(y.what) || (x.doc_id ?? '').localeCompare(y.doc_id ?? ''))
    const [b0, b1] = [bucket(0, MINUTE), bucket(MINUTE, MINUTE)]
    t.not(b0, b1)
    t.same(sorted(await qualityCountsSince(db, T0, MINUTE)), [
      { bucket: b0, what: 'feedback', doc_id: null, title: null, answered: 0, n: 1 },
      { bucket: b0, what: 'questions', doc_id: null, title: null, answered: 1, n: 3 },
      { bucket: b0, what: 'topic', doc_id: 'returns', title: 'Returns', answered: 0, n: 1 },
      { bucket: b1, what: 'feedback', doc_id: null, title: null, answered: 0, n: 1 },
      { bucket: b1, what: 'questions', doc_id: null, title: null, answered: 0, n: 2 },
      { bucket: b1, what: 'topic', doc_id: 'delivery', title: 'Delivery', answered: 0, n: 1 },
      { bucket: b1, what: 'topic', doc_id: 'returns', title: 'Returns', answered: 0, n: 1 }
    ], 'by minute: commands and small talk are no questions, a refusal near nothing has no topic, ratings up are not counted')
    const hour = bucket(0, HOUR)
    t.same(sorted(await qualityCountsSince(db, T0, HOUR)), [
      { bucket: hour, what: 'feedback', doc_id: null, title: null, answered: 0, n: 2 },
      { bucket: hour, what: 'questions', doc_id: null, title: null, answered: 1, n: 5 },
      { bucket: hour, what: 'topic', doc_id: 'delivery', title: 'Delivery', answered: 0, n: 1 },
      { bucket: hour, what: 'topic', doc_id: 'returns', title: 'Returns', answered: 0, n: 2 }
    ], 'by hour: the same turns in one bucket; a refusal\'s topic is its first source only')
    t.same(sorted(await qualityCountsSince(db, at(-1), HOUR)).map(row => `${row.bucket === hour ? 'now' : 'before'}:${row.what}:${row.n}`), [
      'before:feedback:1', 'before:questions:1', 'before:topic:1', 'now:feedback:2', 'now:questions:5', 'now:topic:1', 'now:topic:2'
    ], 'a millisecond earlier: the turn and the rating of that millisecond, in the hour before')
    t.same(await qualityCountsSince(db, at(80_001), MINUTE), [], 'nothing after the last turn')
  })

  t.test(`${engine.name}: usageRows and feedbackCounts count a period's turns, people, ratings, refusals and model calls`, async t => {
    const db = await engine.open(t)
    const { open, turn, rate } = await setUp(db)
    const [a, b, c, d] = [await open('u1'), await open('u1'), await open(null), await open('u3')]
    await turn(-1, d, 'Do you sell bikes?', { kind: 'no_answer' }) // before the period
    await turn(0, a, 'When does the shop open?', { generation: model({ input_tokens: 100, output_tokens: 20, cost_usd: 0.01 }) })
    await turn(MINUTE, a, 'Do you sell bikes?', { kind: 'no_answer' })
    await turn(2 * MINUTE, a, '/help', { kind: 'command', command: 'help' })
    await turn(3 * MINUTE, a, '/feedback sideways', { kind: 'command_error', command: 'feedback' })
    await turn(4 * MINUTE, b, 'Do you sell bikes?', { kind: 'no_answer' })
    await turn(5 * MINUTE, b, 'Where is my parcel?', {
      generation: model({ by: 'extractive', fallback_reason: 'timeout', input_tokens: 50, output_tokens: 0, cost_usd: 0.002, usage_estimated: true })
    })
    await turn(6 * MINUTE, c, 'Where is the shop?', { kind: 'no_answer' })
    await turn(7 * MINUTE, c, 'hello', { kind: 'smalltalk' })
    await turn(DAY, d, 'Do you sell bikes?', { kind: 'no_answer', generation: model({ cost_usd: 5 }) }) // at its end: out
    await rate(-1, d, 1, 'up')
    await rate(10 * MINUTE, a, 1, 'up')
    await rate(11 * MINUTE, a, 2, 'down', 'no bikes?')
    await rate(12 * MINUTE, b, 2, 'up')
    await rate(DAY, d, 2, 'down')

    const period = { from: T0, to: at(DAY) }
    const usage = await usageRows(db, period, 5)
    t.same(usage.turns.sort((x, y) => x.kind.localeCompare(y.kind)), [
      { kind: 'answer', command: null, n: 2 },
      { kind: 'command', command: 'help', n: 1 },
      { kind: 'command_error', command: 'feedback', n: 1 },
      { kind: 'no_answer', command: null, n: 3 },
      { kind: 'smalltalk', command: null, n: 1 }
    ], 'the replies by kind and command, from the period\'s start up to its end')
    t.same(usage.people, { sessions: 3, users: 1 }, 'three sessions, one user: a session without one is no user')
    t.same(usage.feedback.sort((x, y) => x.rating.localeCompare(y.rating)), [{ rating: 'down', n: 1 }, { rating: 'up', n: 2 }])
    t.same(usage.unanswered, [{ text: 'Do you sell bikes?', n: 2 }, { text: 'Where is the shop?', n: 1 }], 'as written, the most asked first')
    t.same(usage.modelCalls.sort((x, y) => (x.reason ?? '').localeCompare(y.reason ?? '')), [
      { reason: null, n: 1, input_tokens: 100, output_tokens: 20, cost_usd: 0.01 },
      { reason: 'timeout', n: 1, input_tokens: 50, output_tokens: 0, cost_usd: 0.002 }
    ], 'the model\'s calls by why they fell back, with their tokens and cost')
    t.same((await usageRows(db, period, 1)).unanswered, [{ text: 'Do you sell bikes?', n: 2 }], 'as many wordings as asked for')
    t.same(await usageRows(db, { from: at(2 * DAY), to: at(3 * DAY) }, 5), {
      turns: [], people: { sessions: 0, users: 0 }, feedback: [], unanswered: [], modelCalls: []
    }, 'a period without turns')

    t.same(await feedbackCounts(db, { from: at(11 * MINUTE), to: at(12 * MINUTE) }), [{ rating: 'down', n: 1 }], 'its end is out')
    t.same((await feedbackCounts(db, { from: at(-1), to: at(DAY + 1) })).sort((x, y) => x.rating.localeCompare(y.rating)),
      [{ rating: 'down', n: 2 }, { rating: 'up', n: 3 }])
    t.same(await feedbackCounts(db, { from: at(12 * MINUTE + 1), to: at(DAY) }), [])
  })

  t.test(`${engine.name}: turnLatencyRows reads the latency users lived, the trace's where kept`, async t => {
    const db = await engine.open(t)
    const { open, turn } = await setUp(db)
    const [a, b] = [await open('u1'), await open('u2')]
    await turn(-1, b, 'before the period', { latencyMs: 9 }) // b 1
    await turn(0, a, 'one', { latencyMs: 100 })
    await turn(30 * MINUTE, a, 'two', { latencyMs: 300 })
    await turn(40 * MINUTE, a, 'three', { kind: 'no_answer', latencyMs: 50 })
    await turn(50 * MINUTE, a, '/help', { kind: 'command', command: 'help', latencyMs: 5 })
    await turn(65 * MINUTE, a, 'five', { latencyMs: 10 }) // its trace says 1000
    await turn(23 * HOUR, b, 'next day', { latencyMs: 20 }) // 2026-01-16T09:00Z
    await turn(2 * DAY, b, 'at the end', { latencyMs: 7 }) // out
    await trace(db, { trace: 'trace-a5', session: a, turn: 5, ms: 65 * MINUTE, duration: 1000 })
    await trace(db, { trace: 'trace-other', session: b, turn: 9, ms: 0, duration: 99_999 }) // no such turn
    const period = { from: T0, to: at(2 * DAY) }
    const rows = async (bucket: 'hour' | 'day' | 'all') => (await turnLatencyRows(db, period, bucket))
      .map(row => ({ ...row, p50: round(row.p50), p95: round(row.p95), p99: round(row.p99) }))

    t.same(await rows('hour'), [
      { bucket: '2026-01-15T10:00', kind: 'answer', n: 2, p50: 200, p95: 290, p99: 298 },
      { bucket: '2026-01-15T10:00', kind: 'command', n: 1, p50: 5, p95: 5, p99: 5 },
      { bucket: '2026-01-15T10:00', kind: 'no_answer', n: 1, p50: 50, p95: 50, p99: 50 },
      { bucket: '2026-01-15T11:00', kind: 'answer', n: 1, p50: 1000, p95: 1000, p99: 1000 },
      { bucket: '2026-01-16T09:00', kind: 'answer', n: 1, p50: 20, p95: 20, p99: 20 }
    ], 'per hour of UTC and kind, in order; the trace\'s duration where there is one')
    t.same(await rows('day'), [
      { bucket: '2026-01-15', kind: 'answer', n: 3, p50: 300, p95: 930, p99: 986 },
      { bucket: '2026-01-15', kind: 'command', n: 1, p50: 5, p95: 5, p99: 5 },
      { bucket: '2026-01-15', kind: 'no_answer', n: 1, p50: 50, p95: 50, p99: 50 },
      { bucket: '2026-01-16', kind: 'answer', n: 1, p50: 20, p95: 20, p99: 20 }
    ], 'per day of UTC')
    t.same(await rows('all'), [
      { bucket: 'all', kind: 'answer', n: 4, p50: 200, p95: 895, p99: 979 },
      { bucket: 'all', kind: 'command', n: 1, p50: 5, p95: 5, p99: 5 },
      { bucket: 'all', kind: 'no_answer', n: 1, p50: 50, p95: 50, p99: 50 }
    ], 'for the whole period: exact, interpolated percentiles')
    t.same(await turnLatencyRows(db, { from: at(2 * DAY + 1), to: at(3 * DAY) }, 'all'), [])
  })

  t.test(`${engine.name}: turnList finds stored and failed turns by each filter, newest first, a page at a time`, async t => {
    const db = await engine.open(t)
    const { open, turn, rate } = await setUp(db)
    const [a, b, c] = [await open('u1'), await open('u2'), await open(null)]
    await turn(0, a, 'When does the shop open?', {
      reply: 'The shop opens at nine.', sources: [HOURS, DELIVERY], latencyMs: 100, traceId: 'trace-a1'
    })
    await turn(MINUTE, a, 'My email is anna@example.com, can you mail the invoice?', {
      reply: 'I cannot send invoices.', kind: 'no_answer', sources: [INVOICES], latencyMs: 40, traceId: 'trace-a2'
    })
    await turn(2 * MINUTE, b, 'Do you deliver on Sundays?', {
      reply: 'Parcels come on weekdays: deliveries@shop.example.', sources: [DELIVERY], latencyMs: 900, traceId: 'trace-b1'
    })
    await turn(3 * MINUTE, b, '/feedback sideways bob@example.com', {
      reply: 'Rate with up or down, not "sideways bob@example.com".', kind: 'command_error', command: 'feedback', latencyMs: 3
    })
    await turn(3 * MINUTE, c, 'hello', { reply: 'Hello!', kind: 'smalltalk', latencyMs: 2 }) // the same microsecond
    await turn(4 * MINUTE, c, 'thanks a lot', { reply: 'You are welcome.', kind: 'smalltalk', latencyMs: 2 })
    await rate(10 * MINUTE, a, 2, 'down', 'wrong')
    await rate(11 * MINUTE, b, 1, 'up')
    await trace(db, { trace: 'trace-a1', session: a, turn: 1, ms: 0, duration: 120 })
    await trace(db, { trace: 'trace-b1', session: b, turn: 1, ms: 2 * MINUTE, duration: 950, status: 'error' })
    await trace(db, { trace: 'trace-f1', session: a, turn: null, ms: 5 * MINUTE, duration: 2000, status: 'error', text: 'Why is it broken?' })
    await trace(db, { trace: 'trace-f2', session: null, turn: null, ms: -MINUTE, duration: 30, status: 'error', pseudonym: 'p-u9' })
    await trace(db, { trace: 'trace-ok', session: c, turn: null, ms: 6 * MINUTE, duration: 1, text: 'refused' }) // not an error

    const names = new Map([[a, 'A'], [b, 'B'], [c, 'C']])
    const label = (row: TurnListRow): string => row.turn === null ? row.trace_id ?? '?' : `${names.get(row.session_id!)}${row.turn}`
    const list = async (filter: Omit<TurnFilter, 'limit'> & { limit?: number }, wordsScrubbed = false) =>
      (await turnList(db, { limit: 20, ...filter }, wordsScrubbed)).map(label)

    const all = await turnList(db, { limit: 20 }, false)
    t.same(all.map(label), ['trace-f1', 'C2', 'C1', 'B2', 'B1', 'A2', 'A1', 'trace-f2'],
      'newest first; of the same microsecond, the later stored first; a failed turn with them, an ok one without a turn not')
    const byLabel = new Map(all.map(row => [label(row), row]))
    const us = (ms: number) => String(at(ms).getTime() * 1000)
    t.same(byLabel.get('trace-f1'), {
      session_id: a,
      turn: null,
      at: at(5 * MINUTE),
      at_us: us(5 * MINUTE),
      key: 'ttrace-f1',
      user_id: 'u1',
      message: 'Why is it broken?',
      reply: null,
      reply_as_written: false,
      kind: null,
      latency_ms: 2000,
      feedback: null,
      error: true,
      trace_id: 'trace-f1'
    }, 'a failed turn: its question from its log line, its user through its session')
    t.same(byLabel.get('trace-f2'), {
      session_id: null,
      turn: null,
      at: at(-MINUTE),
      at_us: us(-MINUTE),
      key: 'ttrace-f2',
      user_id: null,
      message: '',
      reply: null,
      reply_as_written: false,
      kind: null,
      latency_ms: 30,
      feedback: null,
      error: true,
      trace_id: 'trace-f2'
    }, 'one that failed before it had a session, without a log line of its question')
    const { key: b1Key, ...b1 } = byLabel.get('B1')!
    t.match(b1Key, /^m\d{19}$/)
    t.same(b1, {
      session_id: b,
      turn: 1,
      at: at(2 * MINUTE),
      at_us: us(2 * MINUTE),
      user_id: 'u2',
      message: 'Do you deliver on Sundays?',
      reply: 'Parcels come on weekdays: deliveries@shop.example.',
      reply_as_written: true,
      kind: 'answer',
      latency_ms: 950,
      feedback: 'up',
      error: true,
      trace_id: 'trace-b1'
    }, 'a stored turn whose trace failed: the trace\'s latency, and an error')
    t.match(byLabel.get('A2'), { latency_ms: 40, feedback: 'down', error: false, trace_id: 'trace-a2', kind: 'no_answer' },
      'its own latency without a kept trace')
    t.match(byLabel.get('B2'), { latency_ms: 3, feedback: null, error: true, trace_id: null, kind: 'command_error' }, 'a failed command is an error')
    t.ok(byLabel.get('C1')!.key > byLabel.get('B2')!.key, 'the later stored has the greater key')

    // Pages of three: each asks after the last row shown, and together they are the list, once.
    const pages: string[][] = []
    let before: string | undefined
    for (;;) {
      const page = await turnList(db, { limit: 3, before }, false)
      pages.push(page.slice(0, 3).map(label))
      if (page.length <= 3) break
      t.equal(page.length, 4, 'one more row says there is a next page')
      before = `${page[2]!.at_us}_${page[2]!.key}`
    }
    t.same(pages, [['trace-f1', 'C2', 'C1'], ['B2', 'B1', 'A2'], ['A1', 'trace-f2']], 'a page boundary inside one microsecond loses none')

    t.same(await list({ from: at(MINUTE), to: at(4 * MINUTE) }), ['C1', 'B2', 'B1', 'A2'], 'from its start, up to and excluding its end')
    t.same(await list({ from: at(5 * MINUTE) }), ['trace-f1'], 'a failed turn by its start')
    t.same(await list({ to: at(5 * MINUTE) }), ['C2', 'C1', 'B2', 'B1', 'A2', 'A1', 'trace-f2'])
    t.same(await list({ userIds: ['u1'] }), ['trace-f1', 'A2', 'A1'], 'a user\'s failed turns too')
    t.same(await list({ userIds: ['u2', 'u1'] }), ['trace-f1', 'B2', 'B1', 'A2', 'A1'])
    t.same(await list({ userIds: [] }), [], 'no users: no turns')
    t.same(await list({ userIds: [], userPseudonyms: ['p-u9'] }), ['trace-f2'],
      'a user whose one turn failed before its session was stored, by pseudonym')
    t.same(await list({ userIds: ['u1'], userPseudonyms: ['p-u9'], kind: 'answer' }), ['A1'], 'a stored turn by its user only')
    t.same(await list({ minLatencyMs: 950 }), ['trace-f1', 'B1'], 'at least that latency, as lived')
    t.same(await list({ minLatencyMs: 951 }), ['trace-f1'])
    t.same(await list({ errors: true }), ['trace-f1', 'B2', 'B1', 'trace-f2'], 'failed commands, failed traces and failed turns')
    t.same(await list({ errors: true, userIds: ['u1'] }), ['trace-f1'])
    t.same(await list({ errors: true, minLatencyMs: 100 }), ['trace-f1', 'B1'])
    t.same(await list({ kind: 'smalltalk' }), ['C2', 'C1'], 'a kind: stored turns only')
    t.same(await list({ kind: 'answer', userIds: ['u1'] }), ['A1'])
    t.same(await list({ feedbackDown: true }), ['A2'], 'rated down: stored turns only')
    t.same(await list({ source: 'delivery' }), ['B1'], 'by its first source only: A1\'s second is not it')
    t.same(await list({ source: 'opening-hours' }), ['A1'])
    t.same(await list({ q: 'nine' }), ['A1'], 'words in the reply')
    t.same(await list({ q: 'deliver sundays' }), ['B1'], 'words in the question, stemmed')
    t.same(await list({ q: 'broken' }), [], 'a failed turn is not found by the words of its log line')
    t.same(await list({ q: 'anna@example.com' }, false), ['A2'], 'unscrubbed: found by what the user wrote')
    t.same(await list({ q: 'anna@example.com' }, true), [], 'scrubbed: not by what the scrubber took out')
    t.same(await list({ q: 'invoice' }, true), ['A2'], 'scrubbed: by what it left')
    t.same(await list({ q: 'shop' }, true), ['A1'], 'scrubbed: a message scrubbing did not change, by its words')
    t.same(await list({ q: 'deliveries@shop.example' }, true), ['B1'],
      'scrubbed: a reply in the knowledge base\'s words, by the words it was shown with')
    t.same(await list({ q: 'bob@example.com' }, true), [], 'scrubbed: not a command\'s reply, which repeats the user\'s words')
    t.same(await list({ q: 'bob@example.com' }, false), ['B2'])
    t.same(['A1', 'A2', 'B1', 'B2', 'C1'].map(name => byLabel.get(name)!.reply_as_written), [true, true, true, false, false],
      'answers and no_answer as written; a command\'s reply and small talk not')
    t.same(await list({ q: 'hello', limit: 0 }), ['C1'], 'limit 0: the one row that says there is more')
  })

  t.test(`${engine.name}: conversationTurns shows a session's stored turns, oldest first`, async t => {
    const db = await engine.open(t)
    const { open, turn, rate } = await setUp(db)
    const [a, b] = [await open('u1'), await open('u2')]
    const decision = { confidence: 0.8, threshold: 0.5, coverage: 1 }
    const generation = model({ input_tokens: 10, output_tokens: 5, cost_usd: 0.001 })
    await turn(0, a, 'When does the shop open?', { reply: 'At nine.', sources: [HOURS], latencyMs: 100, traceId: 'trace-a1', decision, generation })
    await turn(MINUTE, a, 'and on Sundays?', { reply: 'Closed.', kind: 'no_answer', latencyMs: 40, traceId: 'trace-a2', contextTurn: 1 })
    await turn(2 * MINUTE, b, '/help', { reply: 'Commands…', kind: 'command', command: 'help', latencyMs: 3 })
    await rate(3 * MINUTE, a, 2, 'down', 'they open at ten')
    await trace(db, { trace: 'trace-a1', session: a, turn: 1, ms: 0, duration: 120 })
    await trace(db, { trace: 'trace-a3', session: a, turn: null, ms: 4 * MINUTE, duration: 50, status: 'error', text: 'lost' })

    t.same(await conversationTurns(db, a), [
      {
        turn: 1,
        at: at(0),
        message: 'When does the shop open?',
        reply: 'At nine.',
        reply_as_written: false,
        kind: 'answer',
        command: null,
        sources: [HOURS],
        context_turn: null,
        latency_ms: 120,
        rating: null,
        comment: null,
        trace_id: 'trace-a1',
        has_trace: true,
        generation,
        decision
      },
      {
        turn: 2,
        at: at(MINUTE),
        message: 'and on Sundays?',
        reply: 'Closed.',
        reply_as_written: true,
        kind: 'no_answer',
        command: null,
        sources: [],
        context_turn: 1,
        latency_ms: 40,
        rating: 'down',
        comment: 'they open at ten',
        trace_id: 'trace-a2',
        has_trace: false,
        generation: null,
        decision: null
      }
    ], 'a kept trace\'s duration and id; without one, the turn\'s own; a failed turn is no stored turn; ' +
      'a reply the model wrote is not in the knowledge base\'s words alone')
    t.same(await conversationTurns(db, b), [{
      turn: 1,
      at: at(2 * MINUTE),
      message: '/help',
      reply: 'Commands…',
      reply_as_written: false,
      kind: 'command',
      command: 'help',
      sources: [],
      context_turn: null,
      latency_ms: 3,
      rating: null,
      comment: null,
      trace_id: null,
      has_trace: false,
      generation: null,
      decision: null
    }])
    t.same(await conversationTurns(db, UNKNOWN), [])
  })
}
