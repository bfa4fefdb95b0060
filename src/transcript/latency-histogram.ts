// Turn latencies counted in fixed, log-spaced bins, so that the console's overview can add up
// closed buckets of turns instead of sorting every turn of its period again (transcript-rollup.ts).
// A bin is 10 % wider than the one before: a percentile read from the bins is interpolated inside
// the bin that holds it, so it is within that bin's width (10 % of its value) of the exact one,
// and exact when every turn of the bin took the same time (the smallest and largest value clamp it).

/** Bin 0 holds what took less than this; bin i ≥ 1 holds [FIRST_MS · RATIO^(i−1), FIRST_MS · RATIO^i). */
const FIRST_MS = 0.1
const RATIO = 1.1
/** The last bin is open: from about 10 minutes (0.1 ms · 1.1^164) up, past any request timeout. */
export const BIN_COUNT = 166

/** A histogram as stored: turns by bin (a bin with none is left out), and the range they span. */
export interface LatencyHistogram {
  bins: Record<string, number>
  min: number | null
  max: number | null
}

/** SQL: the bin of a latency in milliseconds, `ms`; the same as binOf. */
export const binSql = (ms: string): string =>
  `CASE WHEN ${ms} < ${FIRST_MS} THEN 0 ` +
  `ELSE least(${BIN_COUNT - 1}, 1 + floor(ln(${ms} / ${FIRST_MS}) / ln(${RATIO}))::int) END`

export function binOf (ms: number): number {
  if (ms < FIRST_MS) return 0
  return Math.min(BIN_COUNT - 1, 1 + Math.floor(Math.log(ms / FIRST_MS) / Math.log(RATIO)))
}

/** Where a bin starts and ends; the last bin ends at infinity. */
export function binBounds (bin: number): [number, number] {
  const low = bin === 0 ? 0 : FIRST_MS * RATIO ** (bin - 1)
  return [low, bin === BIN_COUNT - 1 ? Infinity : FIRST_MS * RATIO ** bin]
}

export const emptyHistogram = (): LatencyHistogram => ({ bins: {}, min: null, max: null })

/** Adds `other` into `into`. */
export function addHistogram (into: LatencyHistogram, other: LatencyHistogram): void {
  for (const [bin, n] of Object.entries(other.bins)) into.bins[bin] = (into.bins[bin] ?? 0) + n
  if (other.min !== null) into.min = into.min === null ? other.min : Math.min(into.min, other.min)
  if (other.max !== null) into.max = into.max === null ? other.max : Math.max(into.max, other.max)
}

/**
 * The `fraction` percentile of the histogram's latencies, or null without any: as percentile_cont,
 * between the values of rank ⌊fraction · (n − 1)⌋ and the next, each taken at its place among its
 * bin's turns spread evenly over the bin (narrowed to the smallest and largest value, which are
 * the first and the last). Each is within
 * its bin's width of the true value, so the percentile is within 10 % of the exact one (or 0.1 ms).
 */
export function percentile (histogram: LatencyHistogram, fraction: number): number | null {
  const { min, max } = histogram
  const bins = Object.entries(histogram.bins)
    .map(([bin, n]) => [Number(bin), n] as const)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a - b)
  const total = bins.reduce((sum, [, n]) => sum + n, 0)
  if (total === 0 || min === null || max === null) return null
  // The first and last values are known: the smallest and the largest.
  const valueOfRank = (rank: number): number => {
    if (rank === 0) return min
    if (rank === total - 1) return max
    let before = 0
    for (const [bin, n] of bins) {
      if (rank < before + n) {
        const [low, high] = binBounds(bin)
        const from = Math.max(low, min)
        const to = Math.max(from, Math.min(high, max))
        return from + (to - from) * (rank - before + 0.5) / n
      }
      before += n
    }
    return max
  }
  const rank = fraction * (total - 1)
  const below = Math.floor(rank)
  const value = below + 1 < total
    ? valueOfRank(below) + (rank - below) * (valueOfRank(below + 1) - valueOfRank(below))
    : valueOfRank(below)
  return Math.min(Math.max(value, min), max)
}
