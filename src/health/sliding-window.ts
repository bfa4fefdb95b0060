// Sliding windows over the app's own measurements, for alert rules such as "p95 over the last
// 5 minutes" without a monitoring stack. Time is cut into slots; each slot keeps a count and a
// log-scale histogram, so memory is bounded by the horizon, not by traffic, and a p95 is within
// about 5% of the exact value (buckets grow by 10%).

const GROWTH = 1.1
const SMALLEST = 1e-4 // values below this (e.g. 0.1 ms in seconds) share the first bucket
const BUCKETS = Math.ceil(Math.log(1e6) / Math.log(GROWTH)) + 2

const bucketOf = (value: number): number => value <= SMALLEST ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(value / SMALLEST) / Math.log(GROWTH)))
// The geometric middle of a bucket: the estimate least wrong for any value inside it.
const middleOf = (bucket: number): number => bucket === 0 ? SMALLEST : SMALLEST * GROWTH ** (bucket - 0.5)

interface Slot { index: number, count: number, buckets: Uint32Array | undefined }

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
    this.slots = Array.from({ length: Math.ceil(options.horizonMs / this.slotMs) + 1 }, () => ({ index: -1, count: 0, buckets: undefined }))
  }

  /** Counts one event; with a value (a duration, say), also places it in the histogram. */
  record (value?: number): void {
    const index = Math.floor(this.now() / this.slotMs)
    const slot = this.slots[index % this.slots.length]!
    if (slot.index !== index) Object.assign(slot, { index, count: 0, buckets: undefined })
    slot.count++
    if (value !== undefined) (slot.buckets ??= new Uint32Array(BUCKETS))[bucketOf(value)]!++
  }

  /** Events in the last windowMs. */
  count (windowMs: number): number {
    let total = 0
    for (const slot of this.within(windowMs)) total += slot.count
    return total
  }

  /** The q-quantile (0..1) of the values recorded in the last windowMs; undefined if none. */
  quantile (q: number, windowMs: number): number | undefined {
    const merged = new Uint32Array(BUCKETS)
    let total = 0
    for (const slot of this.within(windowMs)) {
      if (slot.buckets === undefined) continue
      for (let i = 0; i < BUCKETS; i++) { merged[i]! += slot.buckets[i]!; total += slot.buckets[i]! }
    }
    if (total === 0) return undefined
    const rank = Math.ceil(q * total)
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += merged[i]!
      if (seen >= rank) return middleOf(i)
    }
    return middleOf(BUCKETS - 1)
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
