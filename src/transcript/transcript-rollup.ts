// The transcript's counts by bucket of time, for the console's overview: turns, answers, the
// latency users lived (a histogram, latency-histogram.ts) and ratings. A closed bucket is counted
// once into transcript_rollup and read from there; the overview decides which buckets are closed
// (src/console/console-overview.ts). Counts only: nothing in a row names a session, a user or
// their words, so a conversation erased or deleted later stays counted in them.
import { inRanges, rangeParams, type BucketRange } from '../db/bucket-ranges.js'
import type { Queryable } from '../db/database.js'
import { JOIN_TURN_TRACE, LIVED_LATENCY_MS } from '../turn-traces/turn-trace.js'
import { binSql, type LatencyHistogram } from './latency-histogram.js'

/** One bucket's counts: from `at`, for its width. */
export interface TranscriptBucket {
  at: Date
  turns: number
  answered: number
  no_answer: number
  latency: LatencyHistogram
  feedback_up: number
  feedback_down: number
}

interface Row extends Omit<TranscriptBucket, 'latency'> {
  latency: Record<string, number>
  latency_min: number | null
  latency_max: number | null
}

const COLUMNS = 'at, turns, answered, no_answer, latency, latency_min, latency_max, feedback_up, feedback_down'
const width = (param: string): string => `(${param}::int * interval '1 millisecond')`
const bucketOf = (column: string, widthParam: string): string =>
  `date_bin(${width(widthParam)}, ${column}, $1::timestamptz)`

/**
 * SQL: the counts of every bucket of width $3 (ms) from $1 up to $2, one row each, with zeros
 * where nothing happened, from the messages and ratings. $1 is a multiple of the width from the
 * epoch, as each bucket's start is.
 */
const FROM_TRANSCRIPT = `
  WITH turns AS (
    SELECT ${bucketOf('b.created_at', '$3')} AS at, b.kind, ${LIVED_LATENCY_MS} AS ms
    FROM messages b ${JOIN_TURN_TRACE}
    WHERE b.role = 'bot' AND b.created_at >= $1 AND b.created_at < $2),
  counts AS (
    SELECT at, count(*)::int AS turns, (count(*) FILTER (WHERE kind = 'answer'))::int AS answered,
      (count(*) FILTER (WHERE kind = 'no_answer'))::int AS no_answer, min(ms) AS latency_min, max(ms) AS latency_max
    FROM turns GROUP BY at),
  histograms AS (
    SELECT at, jsonb_object_agg(bin, n) AS latency FROM (
      SELECT at, ${binSql('ms')} AS bin, count(*)::int AS n FROM turns WHERE ms IS NOT NULL GROUP BY 1, 2
    ) binned GROUP BY at),
  ratings AS (
    SELECT ${bucketOf('created_at', '$3')} AS at, (count(*) FILTER (WHERE rating = 'up'))::int AS up,
      (count(*) FILTER (WHERE rating = 'down'))::int AS down
    FROM feedback WHERE created_at >= $1 AND created_at < $2 GROUP BY 1)
  SELECT buckets.at, coalesce(c.turns, 0) AS turns, coalesce(c.answered, 0) AS answered,
    coalesce(c.no_answer, 0) AS no_answer, coalesce(h.latency, '{}'::jsonb) AS latency, c.latency_min, c.latency_max,
    coalesce(r.up, 0) AS feedback_up, coalesce(r.down, 0) AS feedback_down
  FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 millisecond', ${width('$3')}) AS buckets (at)
  LEFT JOIN counts c ON c.at = buckets.at
  LEFT JOIN histograms h ON h.at = buckets.at
  LEFT JOIN ratings r ON r.at = buckets.at`

/**
 * SQL: the counts of every bucket of width $3 from $1 up to $2 from the stored buckets of width
 * $4 inside them; a bucket missing any of its parts is left out.
 */
const FROM_PARTS = `
  WITH parts AS (
    SELECT ${bucketOf('at', '$3')} AS whole, * FROM transcript_rollup
    WHERE width_ms = $4 AND at >= $1 AND at < $2),
  sums AS (
    SELECT whole AS at, count(*) AS parts, sum(turns)::int AS turns, sum(answered)::int AS answered,
      sum(no_answer)::int AS no_answer, min(latency_min) AS latency_min, max(latency_max) AS latency_max,
      sum(feedback_up)::int AS feedback_up, sum(feedback_down)::int AS feedback_down
    FROM parts GROUP BY whole),
  histograms AS (
    SELECT whole AS at, jsonb_object_agg(bin, n) AS latency FROM (
      SELECT whole, bin, sum(n::int)::int AS n FROM parts, jsonb_each_text(parts.latency) AS bins (bin, n) GROUP BY 1, 2
    ) binned GROUP BY whole)
  SELECT s.at, s.turns, s.answered, s.no_answer, coalesce(h.latency, '{}'::jsonb) AS latency, s.latency_min,
    s.latency_max, s.feedback_up, s.feedback_down
  FROM sums s LEFT JOIN histograms h ON h.at = s.at
  WHERE s.parts = $3::int / $4::int`

const toBucket = ({ latency, latency_min: min, latency_max: max, ...row }: Row): TranscriptBucket =>
  ({ ...row, at: new Date(row.at), latency: { bins: latency, min, max } })

/**
 * Stores the counts of the buckets of `widthMs` from `from` up to `to` not stored yet: from the
 * transcript, or with `partsMs`, from the stored buckets of that width (each bucket's every part
 * must be stored). Another instance storing the same buckets at once stores the same counts.
 */
export async function storeTranscriptBuckets (
  db: Queryable,
  range: { from: Date, to: Date },
  widthMs: number,
  partsMs?: number
): Promise<void> {
  const select = partsMs === undefined ? FROM_TRANSCRIPT : FROM_PARTS
  await db.query(
    `INSERT INTO transcript_rollup (width_ms, ${COLUMNS}) SELECT $3::int, * FROM (${select}) counted
     ON CONFLICT (width_ms, at) DO NOTHING`,
    [range.from, range.to, widthMs, ...partsMs === undefined ? [] : [partsMs]])
}

/** The stored buckets of each range, in one statement: an array for each, in its order. */
export async function storedTranscriptBuckets (db: Queryable, ranges: BucketRange[]): Promise<TranscriptBucket[][]> {
  const { rows } = await db.query<Row & { width_ms: number }>(
    `SELECT r.width_ms, ${COLUMNS.split(', ').map(column => `r.${column}`).join(', ')} FROM transcript_rollup r
     JOIN unnest($1::int[], $2::timestamptz[], $3::timestamptz[]) AS ranges (width_ms, from_at, to_at)
       ON r.width_ms = ranges.width_ms AND r.at >= ranges.from_at AND r.at < ranges.to_at
     ORDER BY r.at`, rangeParams(ranges))
  return inRanges(ranges, rows.map(({ width_ms: widthMs, ...row }) => ({ widthMs, bucket: toBucket(row) })))
}

/** The counts of the buckets of `widthMs` from `from` up to `to`, read from the transcript now and not stored. */
export async function liveTranscriptBuckets (
  db: Queryable,
  range: { from: Date, to: Date },
  widthMs: number
): Promise<TranscriptBucket[]> {
  const { rows } = await db.query<Row>(`${FROM_TRANSCRIPT} ORDER BY buckets.at`, [range.from, range.to, widthMs])
  return rows.map(toBucket)
}

/** Deletes the stored buckets that start before `before`: older than any period the overview shows. */
export async function forgetTranscriptBuckets (db: Queryable, before: Date): Promise<void> {
  await db.query('DELETE FROM transcript_rollup WHERE at < $1', [before])
}
