// What users feel, measured for the alert rules: the answer rate, feedback down, and the topic
// asked most without an answer. Read from the transcript rather than this process's counters, so
// that with several instances each judges every user's turns, not the share it happened to serve.
//
// Counted in buckets of BUCKET_MS kept in memory: each evaluation reads only the rows of the last
// few seconds (and an overlap for turns that committed late), not the whole of the longest window.
// Scanning the last hour every 15 s took 1.9 s with 415k bot rows in it, and grew with the traffic
// (bench:alerts).
import type { Queryable } from '../db/database.js'
import { QUALITY_MEASURES, type AlertRule, type MeasureName } from './alert-rules.js'
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

interface Bucket {
  answered: number
  questions: number
  feedbackDown: number
  /** Unanswered turns by nearest document. */
  topics: Map<string, { title: string, turns: number }>
}

/** Each bucket's counts from `since` on. */
async function countsSince (db: Queryable, since: Date): Promise<Map<number, Bucket>> {
  const rows = await qualityCountsSince(db, since, BUCKET_MS)
  const buckets = new Map<number, Bucket>()
  for (const row of rows) {
    const key = Number(row.bucket)
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      bucket = { answered: 0, questions: 0, feedbackDown: 0, topics: new Map() }
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
  private readonly buckets = new Map<number, Bucket>()
  /** Up to when the buckets were read; undefined when they must be read whole again. */
  private readUntil: number | undefined
  private readonly figures = new Map<number, QualityFigures>()

  constructor (rules: AlertRule[]) {
    this.windows = [...new Set(rules.flatMap(rule => rule.when
      .filter(condition => QUALITY_MEASURES.has(condition.measure))
      .map(condition => condition.windowMs)))]
    this.longest = Math.max(0, ...this.windows)
  }

  /**
   * Reads what the transcript gained since the last refresh, and the figures of every window. A
   * failed read leaves no figures (the rules do not judge) and the next reads the whole window.
   */
  async refresh (db: Queryable, now: number): Promise<void> {
    this.figures.clear()
    if (this.windows.length === 0) return
    const oldest = bucketOf(now - this.longest)
    const known = this.readUntil !== undefined && this.readUntil - LATE_COMMIT_MS >= oldest * BUCKET_MS &&
      this.readUntil <= now
    const from = known ? bucketOf(this.readUntil! - LATE_COMMIT_MS) : oldest
    let fresh: Map<number, Bucket>
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
