// The console's overview: the figures a team watches (turns, answer rate, latency, errors, active
// sessions, feedback) over the last hour, day or week, with a series for the charts. Turns,
// latency and feedback come from the transcript; failed requests from the turn traces, since a
// turn that failed was never stored. Active sessions are the session manager's count, as /status
// and the SessionLimit alert have them.
//
// Counted by bucket of time, each closed bucket once: reading every turn of the period at each
// call took 2 s for a week of 10^6 messages and grew with the history. A bucket is closed
// CLOSED_AFTER_MS after its end; its counts are then stored (transcript_rollup, turn_trace_rollup)
// the first time an overview needs them, in one statement per table however many are missing, and
// read from there after. The buckets are 6 hours, an hour and 5 minutes, each aligned to the epoch
// and stored from the ones inside it, so that a week is its 6-hour buckets, then the hours and
// 5 minutes closed since the last of them, then the last few minutes read from the turns: what a
// call reads grows with neither the history nor the period. Latency percentiles come from
// histograms (src/transcript/latency-histogram.ts): within 10 % of the exact ones.
import type { BucketRange } from '../db/bucket-ranges.js'
import type { Queryable } from '../db/database.js'
import {
  forgetTraceBuckets, liveTraceBuckets, storedTraceBuckets, storeTraceBuckets, type TraceBucket
} from '../turn-traces/turn-trace-rollup.js'
import {
  addHistogram, emptyHistogram, percentile, type LatencyHistogram
} from '../transcript/latency-histogram.js'
import {
  forgetTranscriptBuckets, liveTranscriptBuckets, storedTranscriptBuckets, storeTranscriptBuckets,
  type TranscriptBucket
} from '../transcript/transcript-rollup.js'
import type { Overview } from './console-schemas.js'

export type OverviewPeriod = 'hour' | 'day' | 'week'

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS

// Each period's length and the width of its chart's buckets: a dozen to thirty points.
const PERIODS: Record<OverviewPeriod, { ms: number, bucketMs: number }> = {
  hour: { ms: HOUR_MS, bucketMs: 5 * MINUTE_MS },
  day: { ms: 24 * HOUR_MS, bucketMs: HOUR_MS },
  week: { ms: 7 * 24 * HOUR_MS, bucketMs: 6 * HOUR_MS }
}

/** The widths of the stored buckets, widest first: each is whole buckets of the next. */
const WIDTHS = [6 * HOUR_MS, HOUR_MS, 5 * MINUTE_MS]

/**
 * How long after its end a bucket's counts are stored: a turn is stamped when it is stored and
 * committed a moment later, and a turn trace, stamped when its request arrived, is written a
 * second or two after the reply, up to REQUEST_TIMEOUT (30 s by default) later. A row that comes
 * later still is not counted in a bucket already stored.
 */
export const CLOSED_AFTER_MS = MINUTE_MS

/** Stored buckets older than this are deleted: the longest period and its partial first bucket are shorter. */
const KEPT_MS = 8 * 24 * HOUR_MS

interface Range { from: Date, to: Date }

/** One table's buckets: stored, storing and read live. */
interface BucketStore<Bucket extends { at: Date }> {
  stored: (db: Queryable, ranges: BucketRange[]) => Promise<Bucket[][]>
  store: (db: Queryable, range: Range, widthMs: number, partsMs?: number) => Promise<void>
  live: (db: Queryable, range: Range, widthMs: number) => Promise<Bucket[]>
  forget: (db: Queryable, before: Date) => Promise<void>
}

const transcriptStore: BucketStore<TranscriptBucket> = {
  stored: storedTranscriptBuckets,
  store: storeTranscriptBuckets,
  live: liveTranscriptBuckets,
  forget: forgetTranscriptBuckets
}

const traceStore: BucketStore<TraceBucket> = {
  stored: storedTraceBuckets,
  store: storeTraceBuckets,
  live: liveTraceBuckets,
  forget: forgetTraceBuckets
}

const expected = (range: BucketRange): number => (range.to.getTime() - range.from.getTime()) / range.widthMs

/**
 * The buckets of a range (all closed, the range aligned to its width), storing first those not
 * stored yet, from their parts, themselves stored first if need be. `found`: those already read.
 */
async function closedBuckets<Bucket extends { at: Date }> (
  db: Queryable,
  store: BucketStore<Bucket>,
  range: BucketRange,
  now: Date,
  found?: Bucket[]
): Promise<Bucket[]> {
  found ??= (await store.stored(db, [range]))[0]!
  if (found.length === expected(range)) return found
  const { widthMs } = range
  const have = new Set(found.map(bucket => bucket.at.getTime()))
  let first: number | undefined
  let last = range.from.getTime()
  for (let at = range.from.getTime(); at < range.to.getTime(); at += widthMs) {
    if (have.has(at)) continue
    first ??= at
    last = at
  }
  // One statement for the span of the missing ones: those already stored in it are left as they are.
  const missing = { from: new Date(first ?? last), to: new Date(last + widthMs) }
  const partsMs = WIDTHS[WIDTHS.indexOf(widthMs) + 1]
  if (partsMs === undefined) {
    await store.forget(db, new Date(now.getTime() - KEPT_MS))
  } else {
    await closedBuckets(db, store, { ...missing, widthMs: partsMs }, now)
  }
  await store.store(db, missing, widthMs, partsMs)
  return (await store.stored(db, [range]))[0]!
}

/**
 * Every count of the period, as buckets: the widest closed ones that fit from its start, then
 * narrower ones, then the last minutes (still open) read live. The stored ones are read in one
 * statement; only when a bucket has closed since the last call is there more to do.
 */
async function periodBuckets<Bucket extends { at: Date }> (
  db: Queryable,
  store: BucketStore<Bucket>,
  period: Range & { bucketMs: number },
  now: Date
): Promise<Bucket[]> {
  const closedUntil = now.getTime() - CLOSED_AFTER_MS
  const ranges: BucketRange[] = []
  let cursor = period.from.getTime()
  for (const widthMs of WIDTHS.filter(width => width <= period.bucketMs)) {
    const until = Math.max(cursor, Math.floor(closedUntil / widthMs) * widthMs)
    if (until > cursor) ranges.push({ from: new Date(cursor), to: new Date(until), widthMs })
    cursor = until
  }
  const [stored, live] = await Promise.all([
    ranges.length === 0 ? [] : store.stored(db, ranges),
    cursor < period.to.getTime() ? store.live(db, { from: new Date(cursor), to: period.to }, WIDTHS.at(-1)!) : []
  ])
  const buckets = [...live]
  for (const [i, range] of ranges.entries()) buckets.push(...await closedBuckets(db, store, range, now, stored[i]))
  return buckets
}

type Figures = Omit<Overview, 'alerts_firing' | 'turn_traces' | 'active_sessions'>

interface Point { turns: number, answered: number, no_answer: number, errors: number, latency: LatencyHistogram }

export async function overview (db: Queryable, period: OverviewPeriod, now: Date): Promise<Figures> {
  const { ms, bucketMs } = PERIODS[period]
  // Buckets aligned to their width, so the same period read twice draws the same points.
  const to = new Date(Math.ceil(now.getTime() / bucketMs) * bucketMs)
  const from = new Date(to.getTime() - ms)
  const [turns, traces] = await Promise.all([
    periodBuckets(db, transcriptStore, { from, to, bucketMs }, now),
    periodBuckets(db, traceStore, { from, to, bucketMs }, now)
  ])
  const points: Point[] = []
  for (let at = from.getTime(); at < to.getTime(); at += bucketMs) {
    points.push({ turns: 0, answered: 0, no_answer: 0, errors: 0, latency: emptyHistogram() })
  }
  const pointOf = (bucket: { at: Date }): Point | undefined =>
    points[Math.floor((bucket.at.getTime() - from.getTime()) / bucketMs)]
  const total = { turns: 0, answered: 0, no_answer: 0, errors: 0, latency: emptyHistogram(), up: 0, down: 0 }
  let requests = 0
  for (const bucket of turns) {
    const point = pointOf(bucket)
    for (const into of point === undefined ? [total] : [point, total]) {
      into.turns += bucket.turns
      into.answered += bucket.answered
      into.no_answer += bucket.no_answer
      addHistogram(into.latency, bucket.latency)
    }
    total.up += bucket.feedback_up
    total.down += bucket.feedback_down
  }
  for (const bucket of traces) {
    const point = pointOf(bucket)
    if (point !== undefined) point.errors += bucket.errors
    total.errors += bucket.errors
    requests += bucket.requests
  }
  const questions = total.answered + total.no_answer
  return {
    period,
    from: from.toISOString(),
    // What is counted ends now: the last bucket's end is still to come.
    to: new Date(Math.min(to.getTime(), now.getTime())).toISOString(),
    turns: total.turns,
    answer_rate: questions === 0 ? null : total.answered / questions,
    latency_ms: { p50: percentile(total.latency, 0.5), p95: percentile(total.latency, 0.95) },
    // Out of every chat request whose trace was kept (none are with TURN_TRACE_RETENTION_DAYS=0).
    error_rate: requests === 0 ? null : total.errors / requests,
    feedback: { up: total.up, down: total.down },
    series: points.map((point, i) => ({
      at: new Date(from.getTime() + i * bucketMs).toISOString(),
      turns: point.turns,
      answered: point.answered,
      no_answer: point.no_answer,
      errors: point.errors,
      p95_ms: percentile(point.latency, 0.95)
    }))
  }
}
