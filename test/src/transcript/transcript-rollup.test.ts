// The transcript's counts by bucket, on turns stored as a session stores them and traces as the
// recorder leaves them: read live, stored from the transcript or from stored parts (the same
// counts either way), the latency's bins as binOf has them, and percentiles from them within a
// bin's width of the exact ones; on every engine.
import t from 'tap'
import type { Database } from '../../../src/db/database.js'
import { binOf, percentile } from '../../../src/transcript/latency-histogram.js'
import { turnLatencyRows } from '../../../src/transcript/transcript-queries.js'
import {
  forgetTranscriptBuckets, liveTranscriptBuckets, storedTranscriptBuckets, storeTranscriptBuckets, type TranscriptBucket
} from '../../../src/transcript/transcript-rollup.js'
import { engines } from '../../helper.js'
import { at, HOUR, MINUTE, T0, transcriptFixture } from './transcript-fixture.js'

async function setUp (db: Database) {
  const { open, turn, rate } = await transcriptFixture(db)
  const trace = async (session: string, turnNo: number, ms: number, duration: number) => await db.query(
    `INSERT INTO turn_traces (trace_id, session_id, turn, status, status_code, started_at, duration_ms)
     VALUES ($1, $2, $3, 'ok', 200, $4, $5)`, [`trace-${session}-${turnNo}`, session, turnNo, at(ms), duration])
  return { open, turn, rate, trace }
}

const stored = async (db: Database, range: { from: Date, to: Date }, widthMs: number) =>
  (await storedTranscriptBuckets(db, [{ ...range, widthMs }]))[0]!
/** A bucket as compared: its time as an ISO string. */
const plain = (bucket: TranscriptBucket) => ({ ...bucket, at: bucket.at.toISOString() })
const empty = (ms: number) => ({
  at: at(ms).toISOString(), turns: 0, answered: 0, no_answer: 0, latency: { bins: {}, min: null, max: null }, feedback_up: 0, feedback_down: 0
})

for (const engine of engines()) {
  t.test(`${engine.name}: the counts of each bucket: turns by kind, the latency users lived, ratings`, async t => {
    const db = await engine.open(t)
    const { open, turn, rate, trace } = await setUp(db)
    const [a, b] = [await open('u1'), await open('u2')]
    await turn(-1, b, 'before the range', { latencyMs: 9 })
    await turn(0, a, 'one', { latencyMs: 100 })
    await turn(30 * MINUTE, a, 'two', { latencyMs: 300 })
    await turn(40 * MINUTE, a, 'three', { kind: 'no_answer', latencyMs: 50 })
    await turn(50 * MINUTE, a, '/help', { kind: 'command', command: 'help' })
    await db.query("UPDATE messages SET latency_ms = NULL WHERE turn = 4 AND role = 'bot'") // as stored before it was kept
    await turn(65 * MINUTE, a, 'five', { latencyMs: 10 })
    await trace(a, 5, 65 * MINUTE, 1000)
    await rate(66 * MINUTE, a, 5, 'down')
    await rate(67 * MINUTE, a, 1, 'up')
    await turn(2 * HOUR, b, 'at the end', { latencyMs: 7 })

    const buckets = (await liveTranscriptBuckets(db, { from: T0, to: at(2 * HOUR) }, HOUR)).map(plain)
    t.same(buckets, [
      {
        at: T0.toISOString(),
        turns: 4,
        answered: 2,
        no_answer: 1,
        feedback_up: 0,
        feedback_down: 0,
        latency: { bins: { [binOf(100)]: 1, [binOf(300)]: 1, [binOf(50)]: 1 }, min: 50, max: 300 }
      },
      {
        at: at(HOUR).toISOString(),
        turns: 1,
        answered: 1,
        no_answer: 0,
        feedback_up: 1,
        feedback_down: 1,
        latency: { bins: { [binOf(1000)]: 1 }, min: 1000, max: 1000 }
      }
    ], 'a turn without a latency counted, not binned; the trace\'s duration where there is one; ratings when given')
    t.same((await liveTranscriptBuckets(db, { from: at(3 * HOUR), to: at(5 * HOUR) }, HOUR)).map(plain),
      [empty(3 * HOUR), empty(4 * HOUR)], 'a bucket without turns has its row of zeros')
    t.same(await stored(db, { from: T0, to: at(2 * HOUR) }, HOUR), [], 'read, not stored')
  })

  t.test(`${engine.name}: the bins are binOf's, and percentiles read from them are within 10 % of the exact ones`, async t => {
    const db = await engine.open(t)
    const { open, turn } = await setUp(db)
    const latencies = [0, 0.05, 0.1, 0.11, 1, 4.5, 5.5, 99.99, 100, 1000, 12_345, 600_000, 3_600_000]
    for (let i = 0; i < 200; i++) latencies.push(Math.round(2 ** (i % 17) * (1 + (i * 7919 % 101) / 100)))
    let session = await open('u1')
    for (const [i, latencyMs] of latencies.entries()) {
      if (i % 50 === 49) session = await open('u1')
      await turn(i * 1000, session, `turn ${i}`, { latencyMs })
    }
    const [bucket] = await liveTranscriptBuckets(db, { from: T0, to: at(HOUR) }, HOUR)
    const bins: Record<string, number> = {}
    for (const latency of latencies) bins[binOf(latency)] = (bins[binOf(latency)] ?? 0) + 1
    t.same(bucket!.latency, { bins, min: 0, max: 3_600_000 })
    const [truth] = await turnLatencyRows(db, { from: T0, to: at(HOUR) }, 'all')
    for (const [fraction, exact] of [[0.5, truth!.p50], [0.95, truth!.p95], [0.99, truth!.p99]] as const) {
      const estimate = percentile(bucket!.latency, fraction)!
      t.ok(Math.abs(estimate - exact) <= 0.1 * exact, `p${fraction * 100}: ${estimate} against ${exact}`)
    }
  })

  t.test(`${engine.name}: buckets stored from the transcript or from their parts count the same, once`, async t => {
    const db = await engine.open(t)
    const { open, turn, rate } = await setUp(db)
    const session = await open('u1')
    for (let i = 0; i < 40; i++) {
      await turn(i * 7 * MINUTE + i * 1000, session, `turn ${i}`, { kind: i % 3 === 0 ? 'no_answer' : 'answer', latencyMs: 10 + i * 13 })
      if (i % 4 === 0) await rate(i * 7 * MINUTE + 30_000, session, i + 1, i % 8 === 0 ? 'down' : 'up')
    }
    const range = { from: T0, to: at(5 * HOUR) }
    await storeTranscriptBuckets(db, range, 5 * MINUTE)
    t.equal((await stored(db, range, 5 * MINUTE)).length, 60, 'every 5 minutes, empty ones too')
    await storeTranscriptBuckets(db, range, HOUR, 5 * MINUTE)
    const fromParts = (await stored(db, range, HOUR)).map(plain)
    t.same(fromParts, (await liveTranscriptBuckets(db, range, HOUR)).map(plain), 'the hours from their 5 minutes, as from the turns')
    t.equal(fromParts.reduce((sum, bucket) => sum + bucket.turns, 0), 40)

    await turn(6 * HOUR, session, 'late', {})
    await db.query("UPDATE messages SET created_at = $1 WHERE content = 'late'", [at(10 * MINUTE)])
    await storeTranscriptBuckets(db, range, 5 * MINUTE)
    await storeTranscriptBuckets(db, range, HOUR, 5 * MINUTE)
    t.same((await stored(db, range, HOUR)).map(plain), fromParts, 'a bucket stored is left as it was')

    await db.query('DELETE FROM transcript_rollup WHERE width_ms = $1 AND at = $2', [5 * MINUTE, at(HOUR + 5 * MINUTE)])
    const later = { from: at(5 * HOUR), to: at(7 * HOUR) }
    await storeTranscriptBuckets(db, { from: T0, to: at(7 * HOUR) }, 2 * HOUR, HOUR)
    t.same((await stored(db, { from: T0, to: at(7 * HOUR) }, 2 * HOUR)).map(bucket => bucket.at.toISOString()),
      [T0.toISOString(), at(2 * HOUR).toISOString()], 'a bucket missing a part is not stored')
    t.same(await stored(db, later, HOUR), [])

    await forgetTranscriptBuckets(db, at(2 * HOUR))
    t.same((await stored(db, range, HOUR)).map(bucket => bucket.at.toISOString()),
      [at(2 * HOUR), at(3 * HOUR), at(4 * HOUR)].map(date => date.toISOString()), 'the older buckets deleted')
  })
}
