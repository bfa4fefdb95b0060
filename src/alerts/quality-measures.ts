// What users feel, measured for the alert rules: the answer rate, feedback down, and the topic
// asked most without an answer. Read from the transcript rather than this process's counters, so
// that with several instances each judges every user's turns, not the share it happened to serve.
import type { Queryable } from '../db/database.js'

export interface QualityFigures {
  /** Questions answered from the knowledge base out of those searched (answer + no_answer). */
  answered: number
  questions: number
  feedbackDown: number
  /** The nearest document of the no_answer turns that named one most often, and how many there were. */
  topUnansweredTopic?: { docId: string, title: string, turns: number }
}

/**
 * The figures since each of the given times, in one statement: the evaluator's own reads are
 * statements too, timed with the app's (SlowQueries), and a dozen fast ones each evaluation
 * would dilute the p95 they alert on.
 */
export async function qualityFigures (db: Queryable, since: Date[]): Promise<QualityFigures[]> {
  const { rows } = await db.query<{ answered: number, questions: number, feedback_down: number, doc_id: string | null, title: string | null, n: number | null }>(
    `SELECT q.answered, q.questions, f.feedback_down, t.doc_id, t.title, t.n
     FROM unnest($1::timestamptz[]) WITH ORDINALITY AS w(since, i)
     CROSS JOIN LATERAL (SELECT (count(*) FILTER (WHERE kind = 'answer'))::int AS answered, count(*)::int AS questions
       FROM messages WHERE role = 'bot' AND kind IN ('answer', 'no_answer') AND created_at >= w.since) q
     CROSS JOIN LATERAL (SELECT count(*)::int AS feedback_down FROM feedback WHERE rating = 'down' AND created_at >= w.since) f
     LEFT JOIN LATERAL (SELECT sources->0->>'doc_id' AS doc_id, min(sources->0->>'title') AS title, count(*)::int AS n
       FROM messages WHERE role = 'bot' AND kind = 'no_answer' AND created_at >= w.since AND jsonb_array_length(sources) > 0
       GROUP BY 1 ORDER BY n DESC, doc_id LIMIT 1) t ON true
     ORDER BY w.i`, [since.map(time => time.toISOString())])
  return rows.map(row => ({
    answered: row.answered,
    questions: row.questions,
    feedbackDown: row.feedback_down,
    topUnansweredTopic: row.doc_id === null ? undefined : { docId: row.doc_id, title: row.title ?? row.doc_id, turns: row.n ?? 0 }
  }))
}
