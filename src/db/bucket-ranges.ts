// Ranges of time buckets, as the rollup tables are read (src/transcript/transcript-rollup.ts,
// src/turn-traces/turn-trace-rollup.ts): several ranges of different widths in one statement,
// each row handed back to the range it belongs to.

/** Buckets of a width from a time up to (and excluding) another. */
export interface BucketRange { from: Date, to: Date, widthMs: number }

/** The buckets of each range, in the ranges' order: each bucket in the range of its width that holds it. */
export function inRanges<Bucket extends { at: Date }> (
  ranges: BucketRange[],
  buckets: Array<{ widthMs: number, bucket: Bucket }>
): Bucket[][] {
  const found = ranges.map((): Bucket[] => [])
  for (const { widthMs, bucket } of buckets) {
    const i = ranges.findIndex(range => range.widthMs === widthMs && bucket.at >= range.from && bucket.at < range.to)
    found[i]?.push(bucket)
  }
  return found
}

/** SQL parameters for the ranges: their widths, starts and ends, as three arrays to unnest. */
export const rangeParams = (ranges: BucketRange[]): unknown[] =>
  [ranges.map(range => range.widthMs), ranges.map(range => range.from), ranges.map(range => range.to)]
