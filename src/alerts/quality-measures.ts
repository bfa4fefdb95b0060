// What users feel, measured for the alert rules: the answer rate, feedback down, and the topic
// asked most without an answer. Read from the transcript rather than this process's counters, so
// that with several instances each judges every user's turns, not the share it happened to serve.
//
// Counted in buckets of BUCKET_MS kept in memory: each evaluation reads only the rows of the last
// few seconds (and an overlap for turns that committed late), not the whole of the longest window.
// Scanning the last hour every 15 s took 1.9 s with 415k bot rows in it, and grew with the traffic
// (bench:alerts). Each bucket is stored once no later read can change it (quality-rollup.ts): a
// watch that starts, as after a restart, reads those and only the turns after them.
import type { Queryable } from '../db/database.js'
import { QUALITY_MEASURES, type AlertRule, type MeasureName } from './alert-rules.js'
import { storedQualityBuckets, storeQualityBuckets, type QualityBucket } from './quality-rollup.js'
import type { MeasureReading } from '../health/sliding-window.js'
import { LATE_COMMIT_MS, qualityCountsSince } from '../transcript/transcript-queries.js'

export interface QualityFigures {
  /** Questions answered from the knowledge base out of those searched (answer + no_answer). */
  answered: number
  questions: number
  feedbackDown: number
  /** The nearest document of the no_answer turns that named one most often, and how many there were. */
  topUnansweredTopic?: { docId: string, title: string, turns: number }
}

/** A window's edge falls inside a bucket: the window reads at most this much more than it says. */
export const BUCKET_MS = 10_000

const empty = (): QualityBucket => ({ answered: 0, questions: 0, feedbackDown: 0, topics: new Map() })

/** Each bucket's counts from `since` on. */
async function countsSince (db: Queryable, since: Date): Promise<Map<number, QualityBucket>> {
  const rows = await qualityCountsSince(db, since, BUCKET_MS)
  const buckets = new Map<number, QualityBucket>()
  for (const row of rows) {
    const key = Number(row.bucket)
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      bucket = empty()
      buckets.set(key, bucket)
    }
    if (row.what === 'questions') Object.assign(bucket, { answered: row.answered, questions: row.n })
    else if (row.what === 'feedback') bucket.feedbackDown = row.n
    else bucket.topics.set(row.doc_id ?? '', { title: row.title ?? row.doc_id ?? '', turns: row.n })
  }
  return buckets
}

/** The figures of each window a quality rule reads, refreshed at each evaluation, and the measures read from them. */
export class QualityWatch {
  private readonly windows: number[]
  private readonly longest: number
  private readonly buckets = new Map<number, QualityBucket>()
  /** Up to when the buckets were read; undefined when they must be read whole again. */
  private readUntil: number | undefined
  /** The first bucket not stored yet. */
  private storedUntil = 0
  private readonly figures = new Map<number, QualityFigures>()

  constructor (rules: AlertRule[]) {
    this.windows = [...new Set(rules.flatMap(rule => rule.when
      .filter(condition => QUALITY_MEASURES.has(condition.measure))
      .map(condition => condition.windowMs)))]
    this.longest = Math.max(0, ...this.windows)
  }

  /**
   * Reads what the transcript gained since the last refresh, and the figures of every window. A
   * failed read leaves no figures (the rules do not judge) and the next reads the whole window:
   * the stored buckets, and the turns after them.
   */
  async refresh (db: Queryable, now: number): Promise<void> {
    this.figures.clear()
    if (this.windows.length === 0) return
    const oldest = bucketOf(now - this.longest)
    const known = this.readUntil !== undefined && this.readUntil - LATE_COMMIT_MS >= oldest * BUCKET_MS &&
      this.readUntil <= now
    const from = known ? bucketOf(this.readUntil! - LATE_COMMIT_MS) : await this.restore(db, oldest)
    let fresh: Map<number, QualityBucket>
    try {
      fresh = await countsSince(db, new Date(from * BUCKET_MS))
    } catch {
      this.readUntil = undefined
      return
    }
    for (const key of this.buckets.keys()) if (key < oldest || key >= from) this.buckets.delete(key)
    for (const [key, bucket] of fresh) this.buckets.set(key, bucket)
    this.readUntil = now
    for (const windowMs of this.windows) this.figures.set(windowMs, this.sum(bucketOf(now - windowMs)))
    await this.store(db, oldest, bucketOf(now - LATE_COMMIT_MS))
  }

  /**
   * Takes the stored buckets when they run without a gap from the window's first (each is stored
   * in order as it closes, empty ones too), and returns the first bucket to read from the turns.
   * Otherwise, as in the first hour after an upgrade, the whole window is read from the turns.
   */
  private async restore (db: Queryable, oldest: number): Promise<number> {
    this.buckets.clear()
    const stored = await storedQualityBuckets(db, BUCKET_MS, oldest).catch(() => new Map<number, QualityBucket>())
    const keys = [...stored.keys()]
    const whole = keys[0] === oldest && keys.at(-1) === oldest + keys.length - 1
    if (whole) for (const [key, bucket] of stored) this.buckets.set(key, bucket)
    this.storedUntil = whole ? oldest + keys.length : oldest
    return this.storedUntil
  }

  /**
   * Stores the buckets before `closedBefore`, which no later refresh reads again, and forgets
   * those gone from the longest window. A failed store is tried again at the next refresh; a
   * restart meanwhile reads more of the turns.
   */
  private async store (db: Queryable, oldest: number, closedBefore: number): Promise<void> {
    const first = Math.max(this.storedUntil, oldest)
    if (first >= closedBefore) return
    const closed = new Map<number, QualityBucket>()
    for (let key = first; key < closedBefore; key++) closed.set(key, this.buckets.get(key) ?? empty())
    try {
      await storeQualityBuckets(db, BUCKET_MS, closed, oldest)
      this.storedUntil = closedBefore
    } catch {}
  }

  private sum (from: number): QualityFigures {
    const figures: QualityFigures = { answered: 0, questions: 0, feedbackDown: 0 }
    const topics = new Map<string, { title: string, turns: number }>()
    for (const [key, bucket] of this.buckets) {
      if (key < from) continue
      figures.answered += bucket.answered
      figures.questions += bucket.questions
      figures.feedbackDown += bucket.feedbackDown
      for (const [docId, { title, turns }] of bucket.topics) {
        const topic = topics.get(docId)
        topics.set(docId, {
          title: topic === undefined || title < topic.title ? title : topic.title,
          turns: (topic?.turns ?? 0) + turns
        })
      }
    }
    // The most asked; on a tie, the first document id, as the scan of the whole window chose.
    for (const [docId, { title, turns }] of topics) {
      const top = figures.topUnansweredTopic
      if (top === undefined || turns > top.turns || (turns === top.turns && docId < top.docId)) {
        figures.topUnansweredTopic = { docId, title, turns }
      }
    }
    return figures
  }

  read (measure: MeasureName, windowMs: number): MeasureReading {
    const figures = this.figures.get(windowMs)
    if (measure === 'answer_rate') {
      const value = figures === undefined || figures.questions === 0 ? undefined : figures.answered / figures.questions
      return { value, samples: figures?.questions }
    }
    if (measure === 'feedback_down') return { value: figures?.feedbackDown }
    return { value: figures === undefined ? undefined : figures.topUnansweredTopic?.turns ?? 0 }
  }

  topUnansweredTopic (windowMs: number): QualityFigures['topUnansweredTopic'] {
    return this.figures.get(windowMs)?.topUnansweredTopic
  }
}

const bucketOf = (time: number): number => Math.floor(time / BUCKET_MS)
