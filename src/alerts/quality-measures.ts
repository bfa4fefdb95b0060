// What users feel, measured for the alert rules: the answer rate, feedback down, and the topic
// asked most without an answer. Read from the transcript rather than this process's counters, so
// that with several instances each judges every user's turns, not the share it happened to serve.
import type { Queryable } from '../db/database.js'
import { QUALITY_MEASURES, type AlertRule, type MeasureName } from './alert-rules.js'
import type { MeasureReading } from './alert-evaluator.js'

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

/** The figures of each window a quality rule reads, refreshed at each evaluation, and the measures read from them. */
export class QualityWatch {
  private readonly windows: number[]
  private readonly figures = new Map<number, QualityFigures>()

  constructor (rules: AlertRule[]) {
    this.windows = [...new Set(rules.flatMap(rule => rule.when.filter(condition => QUALITY_MEASURES.has(condition.measure)).map(condition => condition.windowMs)))]
  }

  /** Reads the transcript for every window; a failed read leaves no figures (the rules do not judge). */
  async refresh (db: Queryable, now: number): Promise<void> {
    this.figures.clear()
    if (this.windows.length === 0) return
    const figures = await qualityFigures(db, this.windows.map(windowMs => new Date(now - windowMs))).catch(() => [])
    figures.forEach((figure, i) => this.figures.set(this.windows[i]!, figure))
  }

  read (measure: MeasureName, windowMs: number): MeasureReading {
    const figures = this.figures.get(windowMs)
    if (measure === 'answer_rate') return { value: figures === undefined || figures.questions === 0 ? undefined : figures.answered / figures.questions, samples: figures?.questions }
    if (measure === 'feedback_down') return { value: figures?.feedbackDown }
    return { value: figures === undefined ? undefined : figures.topUnansweredTopic?.turns ?? 0 }
  }

  topUnansweredTopic (windowMs: number): QualityFigures['topUnansweredTopic'] {
    return this.figures.get(windowMs)?.topUnansweredTopic
  }
}
