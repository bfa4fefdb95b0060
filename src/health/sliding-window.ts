// Log-scale histograms (buckets grow by 10%, so a p95 is within about 5% of the exact value, in
// memory that does not grow with traffic), and sliding windows of them over the app's own
// measurements, for alert rules such as "p95 over the last 5 minutes" without a monitoring stack:
// time is cut into slots, each with a count and a histogram, so memory is bounded by the horizon.

/**
 * One measure's value over a window, as its source reads it (request-watch.ts, the answer writer,
 * the quality measures) and the alert rules judge it (src/alerts/alert-evaluator.ts).
 */
export interface MeasureReading {
  value: number | undefined
  /** Events behind the value, for min_samples (requests, turns, statements). */
  samples?: number
}

const GROWTH = 1.1
const SMALLEST = 1e-4 // values below this (e.g. 0.1 ms in seconds) share the first bucket
const BUCKETS = Math.ceil(Math.log(1e6) / Math.log(GROWTH)) + 2

const bucketOf = (value: number): number => value <= SMALLEST
  ? 0
  : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(value / SMALLEST) / Math.log(GROWTH)))
// The geometric middle of a bucket: the estimate least wrong for any value inside it.
const middleOf = (bucket: number): number => bucket === 0 ? SMALLEST : SMALLEST * GROWTH ** (bucket - 0.5)

/** A histogram of positive values in fixed log-scale buckets: bounded memory, quantiles within ~5%. */
export class LogHistogram {
  readonly buckets = new Uint32Array(BUCKETS)
  count = 0

  record (value: number): void {
    this.buckets[bucketOf(value)]!++
    this.count++
  }

  add (other: LogHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.buckets[i]! += other.buckets[i]!
    this.count += other.count
  }

  /** The q-quantile (0..1); undefined if nothing was recorded. */
  quantile (q: number): number | undefined {
    if (this.count === 0) return undefined
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!
      if (seen >= rank) return middleOf(i)
    }
    return middleOf(BUCKETS - 1)
  }
}

interface Slot { index: number, count: number, histogram: LogHistogram | undefined }

export interface WindowOptions {
  /** The longest window any caller will ask about. */
  horizonMs: number
  slotMs?: number
  now?: () => number
}

export class SlidingHistogram {
  private readonly slots: Slot[]
  private readonly slotMs: number
  private readonly now: () => number

  constructor (options: WindowOptions) {
    this.slotMs = options.slotMs ?? 1000
    this.now = options.now ?? Date.now
    this.slots = Array.from(
      { length: Math.ceil(options.horizonMs / this.slotMs) + 1 },
      () => ({ index: -1, count: 0, histogram: undefined })
    )
  }

  /** Counts one event; with a value (a duration, say), also places it in the histogram. */
  record (value?: number): void {
    const index = Math.floor(this.now() / this.slotMs)
    const slot = this.slots[index % this.slots.length]!
    if (slot.index !== index) Object.assign(slot, { index, count: 0, histogram: undefined })
    slot.count++
    if (value !== undefined) (slot.histogram ??= new LogHistogram()).record(value)
  }

  /** Events in the last windowMs. */
  count (windowMs: number): number {
    let total = 0
    for (const slot of this.within(windowMs)) total += slot.count
    return total
  }

  /** The q-quantile (0..1) of the values recorded in the last windowMs; undefined if none. */
  quantile (q: number, windowMs: number): number | undefined {
    const merged = new LogHistogram()
    for (const slot of this.within(windowMs)) if (slot.histogram !== undefined) merged.add(slot.histogram)
    return merged.quantile(q)
  }

  private * within (windowMs: number): Generator<Slot> {
    const current = Math.floor(this.now() / this.slotMs)
    const oldest = current - Math.min(this.slots.length - 1, Math.ceil(windowMs / this.slotMs)) + 1
    for (const slot of this.slots) if (slot.index >= oldest && slot.index <= current) yield slot
  }
}

/** Readings of a gauge taken now and then (each alert evaluation), kept for the horizon. */
export class SampleWindow {
  private samples: Array<{ at: number, value: number }> = []
  private readonly horizonMs: number
  private readonly now: () => number

  constructor (options: WindowOptions) {
    this.horizonMs = options.horizonMs
    this.now = options.now ?? Date.now
  }

  add (value: number): void {
    const at = this.now()
    this.samples.push({ at, value })
    const cutoff = at - this.horizonMs
    if (this.samples[0]!.at < cutoff) this.samples = this.samples.filter(sample => sample.at >= cutoff)
  }

  private within (windowMs: number): number[] {
    const cutoff = this.now() - windowMs
    return this.samples.filter(sample => sample.at >= cutoff).map(sample => sample.value)
  }

  // Undefined until readings cover the window (give or take one interval between them, at most
  // half the window), or a five-minute condition would hold after one reading taken at start-up.
  private covered (windowMs: number, intervalMs: number): number[] | undefined {
    const first = this.samples[0]
    if (first === undefined || first.at > this.now() - windowMs + Math.min(intervalMs, windowMs / 2)) return undefined
    return this.within(windowMs)
  }

  /** The lowest reading in the window: above a threshold means above it the whole time. */
  min (windowMs: number, intervalMs: number): number | undefined {
    const values = this.covered(windowMs, intervalMs)
    return values === undefined ? undefined : Math.min(...values)
  }

  average (windowMs: number, intervalMs: number): number | undefined {
    const values = this.covered(windowMs, intervalMs)
    return values === undefined ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length
  }

  latest (): number | undefined { return this.samples.at(-1)?.value }
}
