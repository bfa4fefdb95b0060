// The SQL of evaluation_runs and evaluation_questions: the accuracy runs (their counts, and their
// per-question results as one jsonb value, see migration 7) and the team's saved question set.
// Every change is stored with its audit event in one transaction.
import { createHash, randomUUID } from 'node:crypto'
import type { AuditTrail } from '../audit/audit-trail.js'
import type { Database, Queryable } from '../db/database.js'
import { BadRequestError } from '../errors.js'
import {
  QUESTION_LIMITS, type Counts, type ResultRow, type RunReport, type RunSummary, type SavedQuestion
} from './evaluation-schemas.js'
import type { TestQuestion } from './question-set.js'

/** A question set's latest run: its accuracy, and that of the last run before it of the same questions. */
export interface LatestRun {
  question_set: RunReport['question_set']
  accuracy: number
  /** Absent until the same questions have run before. */
  previous?: number
}

/** A run to store, with its questions' digest (questionsDigest). */
export type NewRun = Omit<RunReport, 'id' | 'previous_accuracy'> & { questions_digest: string }

interface RunRow {
  id: string
  started_at: Date
  finished_at: Date
  actor: string
  question_set: RunReport['question_set']
  questions: number
  answered_right: number
  wrong_document: number
  refused_but_answerable: number
  out_of_scope_refused: number
  accuracy: number
  answer_rate: number | null
  documents: number
  previous_accuracy: number | null
  results?: ResultRow[]
}

interface QuestionRow {
  id: string
  question: string
  expected: string[]
  added_at: Date
  added_by: string
  source: SavedQuestion['source']
}

// The accuracy of run r's last run before it of the same questions (evaluation_runs_by_questions).
const PREVIOUS_ACCURACY = `(SELECT p.accuracy FROM evaluation_runs p
  WHERE p.questions_digest = r.questions_digest AND p.started_at < r.started_at
  ORDER BY p.started_at DESC LIMIT 1)`
const SUMMARY_COLUMNS = 'r.id, r.started_at, r.finished_at, r.actor, r.question_set, r.questions, r.answered_right, ' +
  'r.wrong_document, r.refused_but_answerable, r.out_of_scope_refused, r.accuracy, r.answer_rate, r.documents, ' +
  `${PREVIOUS_ACCURACY} AS previous_accuracy`

/**
 * Which questions a run asked and which documents each expects: a saved question by its id (its
 * words may be erased later), a given one by its words. Runs with the same digest are compared.
 */
export function questionsDigest (questionSet: RunReport['question_set'], results: readonly ResultRow[]): string {
  const asked = results.map(row => [questionSet === 'saved' ? row.id : row.question, row.expected])
  return createHash('sha256').update(JSON.stringify(asked)).digest('hex')
}

function summary (row: RunRow): RunSummary {
  const counts: Counts = {
    answered_right: row.answered_right,
    wrong_document: row.wrong_document,
    refused_but_answerable: row.refused_but_answerable,
    out_of_scope_refused: row.out_of_scope_refused
  }
  return {
    id: row.id,
    started_at: row.started_at.toISOString(),
    finished_at: row.finished_at.toISOString(),
    actor: row.actor,
    question_set: row.question_set,
    questions: row.questions,
    counts,
    accuracy: row.accuracy,
    answer_rate: row.answer_rate,
    documents: row.documents,
    previous_accuracy: row.previous_accuracy
  }
}

// What a run's result shows of a question that was erased with the user whose words it was.
export const ERASED_QUESTION = '[erased]'
// A saved question the console took from a conversation holds its words scrubbed (the route scrubs
// it, as the analyst saw it): found again by those words.
const TAKEN_FROM = "source = 'console' AND question = ANY($1::text[])"

const savedQuestion = (row: QuestionRow): SavedQuestion => ({
  id: row.id,
  question: row.question,
  expected: row.expected,
  added_at: row.added_at.toISOString(),
  added_by: row.added_by,
  source: row.source
})

export class EvaluationStore {
  private readonly db: Database
  private readonly auditTrail: AuditTrail
  private readonly now: () => Date

  constructor (options: { db: Database, auditTrail: AuditTrail, now?: () => Date }) {
    this.db = options.db
    this.auditTrail = options.auditTrail
    this.now = options.now ?? (() => new Date())
  }

  async saveRun (run: NewRun): Promise<RunReport> {
    const id = randomUUID()
    const { counts } = run
    const previous = await this.auditTrail.transaction(this.db, async (tx, audit) => {
      const { rows } = await tx.query<{ previous_accuracy: number | null }>(
        `INSERT INTO evaluation_runs AS r (id, started_at, finished_at, actor, question_set, questions, answered_right,
           wrong_document, refused_but_answerable, out_of_scope_refused, accuracy, answer_rate, documents, results,
           questions_digest)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         RETURNING ${PREVIOUS_ACCURACY} AS previous_accuracy`,
        [id, run.started_at, run.finished_at, run.actor, run.question_set, run.questions, counts.answered_right,
          counts.wrong_document, counts.refused_but_answerable, counts.out_of_scope_refused, run.accuracy,
          run.answer_rate, run.documents, JSON.stringify(run.results), run.questions_digest])
      await audit({
        actor: run.actor,
        action: 'kb.evaluation.run',
        target: id,
        result: 'success',
        details: { question_set: run.question_set, questions: run.questions, accuracy: run.accuracy, ...counts }
      })
      return rows[0]?.previous_accuracy ?? null
    })
    const { questions_digest: _digest, ...report } = run
    return { id, ...report, previous_accuracy: previous }
  }

  /** The latest runs, newest first, without their results. */
  async listRuns (limit: number): Promise<RunSummary[]> {
    const { rows } = await this.db.query<RunRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM evaluation_runs r ORDER BY r.started_at DESC, r.id LIMIT $1`, [limit])
    return rows.map(summary)
  }

  async getRun (id: string): Promise<RunReport | undefined> {
    const { rows } = await this.db.query<RunRow>(
      `SELECT ${SUMMARY_COLUMNS}, r.results FROM evaluation_runs r WHERE r.id = $1`, [id])
    const row = rows[0]
    return row === undefined ? undefined : { ...summary(row), results: row.results ?? [] }
  }

  /**
   * The latest run of each question set, with the accuracy of the last run before it of the same
   * questions; one statement. The alert and the gauge judge each set's on its own: a new user's
   * one-question run of the saved set cleared the alert that a file of 20 had fired.
   */
  async latestRuns (): Promise<LatestRun[]> {
    const { rows } = await this.db.query<Pick<RunRow, 'question_set' | 'accuracy' | 'previous_accuracy'>>(
      `SELECT r.question_set, r.accuracy, ${PREVIOUS_ACCURACY} AS previous_accuracy
       FROM (SELECT DISTINCT ON (question_set) question_set, accuracy, started_at, questions_digest FROM evaluation_runs
             ORDER BY question_set, started_at DESC, id) r
       ORDER BY r.question_set`)
    return rows.map(row => ({
      question_set: row.question_set,
      accuracy: row.accuracy,
      ...(row.previous_accuracy === null ? {} : { previous: row.previous_accuracy })
    }))
  }

  async listQuestions (): Promise<SavedQuestion[]> {
    const { rows } = await this.db.query<QuestionRow>(
      'SELECT id, question, expected, added_at, added_by, source FROM evaluation_questions ORDER BY seq')
    return rows.map(savedQuestion)
  }

  /** Adds to the saved set, all or none; the set never outgrows one run. */
  async addQuestions (
    questions: readonly TestQuestion[], actor: string, source: SavedQuestion['source']
  ): Promise<SavedQuestion[]> {
    const at = this.now()
    const added = questions.map(question => ({
      id: randomUUID(),
      question: question.question,
      expected: question.expected,
      added_at: at.toISOString(),
      added_by: actor,
      source
    }))
    await this.auditTrail.transaction(this.db, async (tx, audit) => {
      // Serialised, so two additions cannot both pass the count.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.evaluation-questions'))")
      const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM evaluation_questions')
      const held = rows[0]!.n
      if (held + added.length > QUESTION_LIMITS.perRun) {
        throw new BadRequestError(
          `The saved question set holds at most ${QUESTION_LIMITS.perRun.toLocaleString('en-US')} questions ` +
          `(one run's limit): it has ${held}, and ${added.length} more were sent.`)
      }
      await tx.query(
        `INSERT INTO evaluation_questions (id, question, expected, added_at, added_by, source)
         SELECT q.id, q.question, q.expected, $2, $3, $4
         FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id uuid, question text, expected jsonb))
           WITH ORDINALITY AS q(id, question, expected, n)
         ORDER BY q.n`,
        [JSON.stringify(added.map(({ id, question, expected }) => ({ id, question, expected }))), at, actor, source])
      await audit({
        actor,
        action: 'kb.evaluation_questions.add',
        target: added.length === 1 ? added[0]!.id : `${added.length} questions`,
        result: 'success',
        details: { source, ids: added.slice(0, 100).map(question => question.id) }
      })
    })
    return added
  }

  /** The saved questions the console took from conversations with these words (scrubbed as search_text is). */
  async questionsTakenFrom (scrubbedTexts: readonly string[], db: Queryable = this.db): Promise<SavedQuestion[]> {
    if (scrubbedTexts.length === 0) return []
    const { rows } = await db.query<QuestionRow>(
      'SELECT id, question, expected, added_at, added_by, source FROM evaluation_questions ' +
        `WHERE ${TAKEN_FROM} ORDER BY seq`,
      [scrubbedTexts])
    return rows.map(savedQuestion)
  }

  /**
   * An erasure, in its transaction: deletes the saved questions taken from conversations with these
   * words, and blanks their words in the runs' results (a run keeps its counts, which name no one).
   * A run holds each question as it was given: a saved question's, found by its id, or a question
   * file's, which may have copied a conversation's words (or a saved question since deleted): found
   * by the words, trimmed and in any case. Returns how many questions and runs were changed.
   */
  async eraseTakenFrom (tx: Queryable, texts: readonly string[]): Promise<{ questions: number, runs: number }> {
    if (texts.length === 0) return { questions: 0, runs: 0 }
    const { rows } = await tx.query<{ id: string }>(
      `DELETE FROM evaluation_questions WHERE ${TAKEN_FROM} RETURNING id::text AS id`, [texts])
    const ids = rows.map(row => row.id)
    const theirs = "(x->>'id' = ANY($1::text[]) OR lower(btrim(x->>'question')) = ANY($3::text[]))"
    const { rowCount } = await tx.query(
      `UPDATE evaluation_runs r SET results = (
         SELECT jsonb_agg(CASE WHEN ${theirs} THEN jsonb_set(x, '{question}', to_jsonb($2::text)) ELSE x END ORDER BY n)
         FROM jsonb_array_elements(r.results) WITH ORDINALITY AS e(x, n))
       WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(r.results) x WHERE ${theirs})`,
      [ids, ERASED_QUESTION, [...new Set(texts.map(text => text.trim().toLowerCase()))]])
    return { questions: ids.length, runs: rowCount }
  }

  async deleteQuestion (id: string, actor: string): Promise<boolean> {
    return await this.auditTrail.transaction(this.db, async (tx, audit) => {
      const { rowCount } = await tx.query('DELETE FROM evaluation_questions WHERE id = $1', [id])
      if (rowCount === 0) return false
      await audit({ actor, action: 'kb.evaluation_question.delete', target: id, result: 'success' })
      return true
    })
  }
}
