// The turn traces' counts by bucket of time, for the console's overview: the chat requests whose
// trace was kept, and those that failed. As the transcript's (src/transcript/transcript-rollup.ts),
// a closed bucket is counted once into turn_trace_rollup and read from there; counts only, which
// outlive the traces' retention and any erasure.
import { inRanges, rangeParams, type BucketRange } from '../db/bucket-ranges.js'
import type { Queryable } from '../db/database.js'

/** One bucket's counts: from `at`, for its width. */
export interface TraceBucket { at: Date, requests: number, errors: number }

const width = (param: string): string => `(${param}::int * interval '1 millisecond')`

/** SQL: every bucket of width $3 (ms) from $1 up to $2, one row each, zeros where nothing ran. */
const FROM_TRACES = `
  SELECT buckets.at, coalesce(c.requests, 0) AS requests, coalesce(c.errors, 0) AS errors
  FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 millisecond', ${width('$3')}) AS buckets (at)
  LEFT JOIN (
    SELECT date_bin(${width('$3')}, started_at, $1::timestamptz) AS at, count(*)::int AS requests,
      (count(*) FILTER (WHERE status = 'error'))::int AS errors
    FROM turn_traces WHERE started_at >= $1 AND started_at < $2 GROUP BY 1
  ) c ON c.at = buckets.at`

/** SQL: every bucket of width $3 from $1 up to $2 from its stored parts of width $4, if all are stored. */
const FROM_PARTS = `
  SELECT date_bin(${width('$3')}, at, $1::timestamptz) AS at, sum(requests)::int AS requests, sum(errors)::int AS errors
  FROM turn_trace_rollup WHERE width_ms = $4 AND at >= $1 AND at < $2
  GROUP BY 1 HAVING count(*) = $3::int / $4::int`

const toBucket = (row: TraceBucket): TraceBucket => ({ ...row, at: new Date(row.at) })

/**
 * Stores the counts of the buckets of `widthMs` from `from` up to `to` not stored yet: from the
 * traces, or with `partsMs`, from the stored buckets of that width.
 */
export async function storeTraceBuckets (
  db: Queryable,
  range: { from: Date, to: Date },
  widthMs: number,
  partsMs?: number
): Promise<void> {
  const select = partsMs === undefined ? FROM_TRACES : FROM_PARTS
  await db.query(
    `INSERT INTO turn_trace_rollup (width_ms, at, requests, errors) SELECT $3::int, * FROM (${select}) counted
     ON CONFLICT (width_ms, at) DO NOTHING`,
    [range.from, range.to, widthMs, ...partsMs === undefined ? [] : [partsMs]])
}

/** The stored buckets of each range, in one statement: an array for each, in its order. */
export async function storedTraceBuckets (db: Queryable, ranges: BucketRange[]): Promise<TraceBucket[][]> {
  const { rows } = await db.query<TraceBucket & { width_ms: number }>(
    `SELECT r.width_ms, r.at, r.requests, r.errors FROM turn_trace_rollup r
     JOIN unnest($1::int[], $2::timestamptz[], $3::timestamptz[]) AS ranges (width_ms, from_at, to_at)
       ON r.width_ms = ranges.width_ms AND r.at >= ranges.from_at AND r.at < ranges.to_at
     ORDER BY r.at`, rangeParams(ranges))
  return inRanges(ranges, rows.map(({ width_ms: widthMs, ...row }) => ({ widthMs, bucket: toBucket(row) })))
}

/** The counts of the buckets of `widthMs` from `from` up to `to`, read from the traces now and not stored. */
export async function liveTraceBuckets (
  db: Queryable,
  range: { from: Date, to: Date },
  widthMs: number
): Promise<TraceBucket[]> {
  const { rows } = await db.query<TraceBucket>(`${FROM_TRACES} ORDER BY buckets.at`, [range.from, range.to, widthMs])
  return rows.map(toBucket)
}

/** Deletes the stored buckets that start before `before`. */
export async function forgetTraceBuckets (db: Queryable, before: Date): Promise<void> {
  await db.query('DELETE FROM turn_trace_rollup WHERE at < $1', [before])
}
