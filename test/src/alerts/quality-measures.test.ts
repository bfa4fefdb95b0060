// The quality measures counted in buckets: each refresh reads only what is new (and an overlap),
// yet every window reads what a scan of the whole window reads, on both engines.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { Database } from '../../../src/db/database.js'
import { DEFAULT_RULES, resolveRules } from '../../../src/alerts/alert-rules.js'
import { BUCKET_MS, QualityWatch } from '../../../src/alerts/quality-measures.js'
import { LATE_COMMIT_MS } from '../../../src/transcript/transcript-queries.js'
import { engines } from '../../helper.js'

const MINUTE = 60_000
const { AnswerRateLow, FeedbackDownSpike, UnansweredTopic } = DEFAULT_RULES
// The default quality rules: the answer rate over 30 minutes, feedback down over 15, a topic over an hour.
const rules = resolveRules({ rules: {} }, 'test', { AnswerRateLow: AnswerRateLow!, FeedbackDownSpike: FeedbackDownSpike!, UnansweredTopic: UnansweredTopic! })
// A whole bucket, so that a window's edge falls between buckets and nothing is read twice.
const start = Math.ceil(Date.parse('2026-01-15T10:00:00Z') / BUCKET_MS) * BUCKET_MS

interface Turn { at: number, kind: 'answer' | 'no_answer' | 'command', docId?: string, down?: boolean }

async function store (db: Database, turns: Turn[]): Promise<void> {
  for (const turn of turns) {
    const session = randomUUID()
    const at = new Date(turn.at)
    await db.query('INSERT INTO sessions (id, created_at, last_activity_at) VALUES ($1, $2, $2)', [session, at])
    const sources = turn.docId === undefined ? [] : [{ doc_id: turn.docId, title: `Title of ${turn.docId}` }]
    await db.query(`INSERT INTO messages (session_id, turn, role, content, kind, sources, created_at)
      VALUES ($1, 1, 'user', 'q', NULL, '[]', $3), ($1, 1, 'bot', 'a', $2, $4::jsonb, $3)`, [session, turn.kind, at, JSON.stringify(sources)])
    if (turn.down === true) await db.query("INSERT INTO feedback (session_id, turn, rating, created_at) VALUES ($1, 1, 'down', $2)", [session, at])
  }
}

/** What a scan of the whole window counts, from the turns themselves. */
function expected (turns: Turn[], now: number, windowMs: number) {
  const from = Math.floor((now - windowMs) / BUCKET_MS) * BUCKET_MS
  const inWindow = turns.filter(turn => turn.at >= from && turn.at <= now)
  const searched = inWindow.filter(turn => turn.kind !== 'command')
  const topics = new Map<string, number>()
  for (const turn of inWindow) if (turn.kind === 'no_answer' && turn.docId !== undefined) topics.set(turn.docId, (topics.get(turn.docId) ?? 0) + 1)
  const top = [...topics].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]
  return {
    answer_rate: searched.length === 0 ? undefined : searched.filter(turn => turn.kind === 'answer').length / searched.length,
    feedback_down: inWindow.filter(turn => turn.down === true).length,
    unanswered_topic_turns: top?.[1] ?? 0,
    topic: top?.[0]
  }
}

function readAll (watch: QualityWatch) {
  return {
    answer_rate: watch.read('answer_rate', 30 * MINUTE).value,
    feedback_down: watch.read('feedback_down', 15 * MINUTE).value,
    unanswered_topic_turns: watch.read('unanswered_topic_turns', 60 * MINUTE).value,
    topic: watch.topUnansweredTopic(60 * MINUTE)?.docId
  }
}

for (const engine of engines()) {
  t.test(`${engine.name}: refreshed every 15 s for two hours and restarted, each window reads what a scan of it would`, async t => {
    const db = await engine.open(t)
    let watch = new QualityWatch(rules)
    const turns: Turn[] = []
    const kinds = ['answer', 'no_answer', 'no_answer', 'command'] as const
    let seed = 7
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647
    for (let now = start; now <= start + 120 * MINUTE; now += 15_000) {
      // A few turns since the last refresh, some stamped just before it and committed only now.
      const batch: Turn[] = Array.from({ length: Math.floor(random() * 4) }, () => {
        const kind = kinds[Math.floor(random() * kinds.length)]!
        return { at: now - Math.floor(random() * (LATE_COMMIT_MS - 1000)), kind, docId: kind === 'command' ? undefined : `doc-${Math.floor(random() * 3)}`, down: random() < 0.2 }
      })
      await store(db, batch)
      turns.push(...batch)
      // Restarted every 25 minutes: the new watch starts from the buckets the last one stored.
      if ((now - start) % (25 * MINUTE) === 0) watch = new QualityWatch(rules)
      await watch.refresh(db, now)
      const wanted = expected(turns, now, 30 * MINUTE)
      const got = readAll(watch)
      if (got.answer_rate !== wanted.answer_rate) t.fail(`answer rate at ${(now - start) / 1000} s: ${got.answer_rate} against ${wanted.answer_rate}`)
      if (got.feedback_down !== expected(turns, now, 15 * MINUTE).feedback_down) t.fail(`feedback down at ${(now - start) / 1000} s`)
      const hour = expected(turns, now, 60 * MINUTE)
      if (got.unanswered_topic_turns !== hour.unanswered_topic_turns || got.topic !== hour.topic) t.fail(`topic at ${(now - start) / 1000} s: ${got.topic} ${got.unanswered_topic_turns} against ${hour.topic} ${hour.unanswered_topic_turns}`)
    }
    t.ok(turns.length > 500, `${turns.length} turns, every refresh agreed`)
    const last = readAll(watch)
    t.ok(last.answer_rate !== undefined && (last.feedback_down ?? 0) > 0 && (last.unanswered_topic_turns ?? 0) > 0, 'and the figures are not empty')
    const { rows: [kept] } = await db.query<{ first: Date, n: number }>('SELECT min(at) AS first, count(*)::int AS n FROM quality_rollup')
    const end = start + 120 * MINUTE
    t.equal(new Date(kept!.first).getTime(), Math.floor((end - 60 * MINUTE) / BUCKET_MS) * BUCKET_MS, 'the stored buckets start with the longest window')
    t.equal(kept!.n, (60 * MINUTE - LATE_COMMIT_MS) / BUCKET_MS, 'and run without a gap up to the last closed one')
  })

  t.test(`${engine.name}: a new watch reads the stored buckets, and the turns after them only`, async t => {
    const db = await engine.open(t)
    await store(db, [
      { at: start - 50 * MINUTE, kind: 'no_answer', docId: 'a' },
      { at: start - 20 * MINUTE, kind: 'answer' },
      { at: start - 10 * MINUTE, kind: 'no_answer', docId: 'a', down: true }
    ])
    await new QualityWatch(rules).refresh(db, start)
    // Turns erased since, or stamped inside a stored bucket and committed only now, are not read
    // again: what was stored stands, as it does for the watch that stored it.
    await db.query('DELETE FROM messages')
    await db.query('DELETE FROM feedback')
    await store(db, [
      { at: start - 20_000, kind: 'no_answer', docId: 'b' },
      { at: start + 10_000, kind: 'answer' },
      { at: start - 5 * MINUTE, kind: 'answer' }
    ])
    const restarted = new QualityWatch(rules)
    await restarted.refresh(db, start + 15_000)
    t.same(readAll(restarted), { answer_rate: 0.5, feedback_down: 1, unanswered_topic_turns: 2, topic: 'a' },
      'the stored counts, and the turns from the first bucket not stored')
    t.equal(restarted.read('answer_rate', 30 * MINUTE).samples, 4)
  })

  t.test(`${engine.name}: stored buckets with a gap, or not reaching back to the window's start, are not used`, async t => {
    const db = await engine.open(t)
    const turns: Turn[] = [{ at: start - 50 * MINUTE, kind: 'no_answer', docId: 'a' }, { at: start - 2 * MINUTE, kind: 'answer' }]
    await store(db, turns)
    await new QualityWatch(rules).refresh(db, start)
    await db.query('DELETE FROM quality_rollup WHERE at = $1', [new Date(start - 30 * MINUTE)])
    await store(db, [{ at: start - 20 * MINUTE, kind: 'answer' }])
    const watch = new QualityWatch(rules)
    await watch.refresh(db, start)
    t.equal(watch.read('answer_rate', 30 * MINUTE).samples, 2, 'a gap: the window is read whole from the turns')
    const { rows: [gap] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM quality_rollup WHERE at = $1', [new Date(start - 30 * MINUTE)])
    t.equal(gap!.n, 1, 'and the gap is filled')
    await db.query('DELETE FROM quality_rollup WHERE at < $1', [new Date(start - 45 * MINUTE)])
    const late = new QualityWatch(rules)
    await late.refresh(db, start + 15_000)
    t.equal(late.read('unanswered_topic_turns', 60 * MINUTE).value, 1, 'not reaching back: read whole, the oldest turn too')
  })

  t.test(`${engine.name}: a refresh reads only the rows since the last one and its overlap`, async t => {
    const db = await engine.open(t)
    const watch = new QualityWatch(rules)
    await store(db, [{ at: start - 20 * MINUTE, kind: 'answer' }, { at: start - MINUTE, kind: 'no_answer', docId: 'a' }])
    await watch.refresh(db, start)
    t.equal(watch.read('answer_rate', 30 * MINUTE).value, 0.5, 'the first refresh reads the whole of the longest window')
    // A row stamped before the overlap but committed only now is not read again: the overlap is
    // what bounds the work, and a turn commits within a moment of its stamp.
    await store(db, [{ at: start - LATE_COMMIT_MS - BUCKET_MS, kind: 'answer' }, { at: start - 5000, kind: 'answer' }])
    await watch.refresh(db, start + 15_000)
    t.equal(watch.read('answer_rate', 30 * MINUTE).samples, 3, 'the late row within the overlap is counted; the one before it is not')
    t.equal(watch.read('answer_rate', 30 * MINUTE).value, 2 / 3)
    await watch.refresh(db, start + 11 * MINUTE)
    t.equal(watch.read('answer_rate', 30 * MINUTE).samples, 2, 'the oldest row slid out of the 30-minute window')
  })

  t.test(`${engine.name}: a failed read leaves no figures, and the next reads the whole window again`, async t => {
    const db = await engine.open(t)
    const watch = new QualityWatch(rules)
    await store(db, [{ at: start - 10 * MINUTE, kind: 'answer' }])
    await watch.refresh(db, start)
    await db.query('ALTER TABLE messages RENAME TO messages_moved')
    await watch.refresh(db, start + 15_000)
    t.same(watch.read('answer_rate', 30 * MINUTE), { value: undefined, samples: undefined }, 'no figures: the rules do not judge')
    await db.query('ALTER TABLE messages_moved RENAME TO messages')
    // Before the overlap of the refresh at +15 s, after the last bucket stored at 0 s.
    await store(db, [{ at: start - 25_000, kind: 'no_answer' }])
    await watch.refresh(db, start + 30_000)
    t.equal(watch.read('answer_rate', 30 * MINUTE).samples, 2, 'read whole: the turns after the stored buckets are read again')
  })
}

t.test('without quality rules nothing is read', async t => {
  const watch = new QualityWatch(resolveRules({ rules: {} }, 'test', {}))
  const db = { query: async () => { throw new Error('read') }, exec: async () => {} }
  await watch.refresh(db, start)
  t.same(watch.read('answer_rate', 30 * MINUTE), { value: undefined, samples: undefined })
})
