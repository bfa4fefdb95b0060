// The alert rules' quality counts per closed bucket of time (table quality_rollup), so that an
// evaluator that starts reads the longest window as a few hundred rows rather than every turn in
// it; quality-measures.ts decides which buckets are closed. Counts and the knowledge base's
// document ids and titles only, so a conversation erased or deleted later stays counted in them.
import type { Queryable } from '../db/database.js'

/** One bucket's counts. */
export interface QualityBucket {
  /** Questions answered from the knowledge base out of those searched (answer + no_answer). */
  answered: number
  questions: number
  feedbackDown: number
  /** Unanswered turns by nearest document. */
  topics: Map<string, { title: string, turns: number }>
}

interface Row {
  ms: number
  answered: number
  questions: number
  feedback_down: number
  unanswered_topics: Array<{ doc_id: string, title: string, turns: number }>
}

/**
 * Stores the buckets of `widthMs`, each keyed by its start over the width, that are not stored
 * yet, and deletes those that start before the bucket `forgetBefore`. Another instance storing
 * the same buckets at once stores the same counts.
 */
export async function storeQualityBuckets (
  db: Queryable,
  widthMs: number,
  buckets: Map<number, QualityBucket>,
  forgetBefore: number
): Promise<void> {
  const rows = [...buckets].map(([key, bucket]) => ({
    at: new Date(key * widthMs).toISOString(),
    answered: bucket.answered,
    questions: bucket.questions,
    feedback_down: bucket.feedbackDown,
    unanswered_topics: [...bucket.topics].map(([docId, { title, turns }]) => ({ doc_id: docId, title, turns }))
  }))
  await db.query(
    `WITH forgotten AS (DELETE FROM quality_rollup WHERE width_ms = $1 AND at < $3)
     INSERT INTO quality_rollup (width_ms, at, answered, questions, feedback_down, unanswered_topics)
     SELECT $1, * FROM jsonb_to_recordset($2::jsonb)
       AS b (at timestamptz, answered int, questions int, feedback_down int, unanswered_topics jsonb)
     ON CONFLICT (width_ms, at) DO NOTHING`,
    [widthMs, JSON.stringify(rows), new Date(forgetBefore * widthMs).toISOString()])
}

/** The stored buckets of `widthMs` from the bucket `from` on, by key, in order. */
export async function storedQualityBuckets (
  db: Queryable,
  widthMs: number,
  from: number
): Promise<Map<number, QualityBucket>> {
  const { rows } = await db.query<Row>(
    `SELECT date_part('epoch', at) * 1000 AS ms, answered, questions, feedback_down, unanswered_topics
     FROM quality_rollup WHERE width_ms = $1 AND at >= $2 ORDER BY at`,
    [widthMs, new Date(from * widthMs).toISOString()])
  return new Map(rows.map(row => [Math.round(row.ms / widthMs), {
    answered: row.answered,
    questions: row.questions,
    feedbackDown: row.feedback_down,
    topics: new Map(row.unanswered_topics.map(topic => [topic.doc_id, { title: topic.title, turns: topic.turns }]))
  }]))
}
