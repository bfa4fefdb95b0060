// An accuracy run from start to stored report: the questions given (or the saved set), decided as
// the chat turn decides them, counted, stored with its audit event, and logged as
// `kb.evaluation_completed` (the weekly report reads the accuracy from that line; the line carries
// counts, never the questions). The server and `npm run kb:evaluate` both run through here.
import type { Logger } from 'pino'
import { BadRequestError, InvalidFieldError } from '../errors.js'
import { log } from '../logging/log-context.js'
import type { AnswerWeights } from '../search/answer-decision.js'
import type { SearchEngine } from '../search/search-engine.js'
import type { RunReport } from './evaluation-schemas.js'
import { questionsDigest, type EvaluationStore, type LatestRun } from './evaluation-store.js'
import { evaluate } from './evaluator.js'
import type { TestQuestion } from './question-set.js'

export interface KbEvaluationsOptions {
  store: EvaluationStore
  searchEngine: SearchEngine
  /** The collections the chat turn answers from now (answeringCollections). */
  collections: () => ReadonlySet<string> | undefined
  model?: AnswerWeights
  now?: () => Date
  /** Told the accuracy trend whenever it is read (the gauge). */
  onTrend?: (trend: AccuracyTrend) => void
  logger?: Logger
}

/**
 * The latest run of each question set, the saved set's and that of questions given with a run (a
 * file), each judged on its own (EvaluationStore.latestRuns): a run of one kind neither clears what
 * the other showed nor hides a drop of its own behind the other's lower accuracy.
 */
export type AccuracyTrend = readonly LatestRun[]

/** The least accurate of the latest runs: what the floor judges. */
export function lowestAccuracy (trend: AccuracyTrend): number | undefined {
  return trend.length === 0 ? undefined : Math.min(...trend.map(run => run.accuracy))
}

/** The most accuracy a latest run lost against the last run of the same questions (none until one has such a run). */
export function largestDrop (trend: AccuracyTrend): number | undefined {
  const drops = trend.flatMap(run => run.previous === undefined ? [] : [run.previous - run.accuracy])
  return drops.length === 0 ? undefined : Math.max(...drops)
}

export class KbEvaluations {
  readonly store: EvaluationStore
  private readonly options: KbEvaluationsOptions
  private readonly now: () => Date
  private latestTrend: AccuracyTrend = []

  constructor (options: KbEvaluationsOptions) {
    this.options = options
    this.store = options.store
    this.now = options.now ?? (() => new Date())
  }

  /** Runs the questions (the saved set when undefined) and stores the report. */
  async run (given: readonly TestQuestion[] | undefined, actor: string): Promise<RunReport> {
    const startedAt = this.now()
    const questions = given ?? (await this.store.listQuestions()).map(saved => ({
      id: saved.id,
      question: saved.question,
      expected: saved.expected
    }))
    if (questions.length === 0) {
      throw new BadRequestError(
        'The saved question set is empty: add questions (POST /v1/kb/evaluation-questions, ' +
        'or "Add to test set" in the console) or send body/questions.'
      )
    }
    if (given !== undefined) this.checkExpected(given)
    const evaluation = evaluate(this.options.searchEngine, questions, {
      collections: this.options.collections(),
      model: this.options.model
    })
    const questionSet = given === undefined ? 'saved' : 'given'
    const digest = questionsDigest(questionSet, evaluation.results)
    const report = await this.store.saveRun({
      started_at: startedAt.toISOString(),
      finished_at: this.now().toISOString(),
      actor,
      question_set: questionSet,
      questions: questions.length,
      counts: evaluation.counts,
      accuracy: evaluation.accuracy,
      answer_rate: evaluation.answerRate,
      documents: evaluation.documents,
      results: evaluation.results,
      questions_digest: digest
    })
    log('evaluation', 'run', this.options.logger).info({
      run_id: report.id,
      actor,
      question_set: report.question_set,
      // Which questions: the weekly report compares runs of the same ones (src/analysis/weekly-report.ts).
      questions_digest: digest,
      questions: report.questions,
      ...report.counts,
      accuracy: report.accuracy,
      answer_rate: report.answer_rate,
      documents: report.documents,
      ms: Date.parse(report.finished_at) - Date.parse(report.started_at)
    }, 'kb.evaluation_completed')
    await this.refreshTrend()
    return report
  }

  /**
   * A given question that expects a document the knowledge base does not hold is a typo, not a
   * question the bot got wrong: it stops the run. (A saved question whose document was removed
   * since is run, and counts as the bot's miss: that is what the run is for.)
   */
  private checkExpected (questions: readonly TestQuestion[]): void {
    for (const [index, { question, expected }] of questions.entries()) {
      const unknown = expected.find(id => !this.options.searchEngine.hasDocument(id))
      if (unknown === undefined) continue
      const quoted = question.length > 60 ? `${question.slice(0, 60)}…` : question
      throw new InvalidFieldError(`body/questions/${index}/expected`,
        `names document "${unknown}", which the knowledge base does not hold (GET /v1/kb/documents lists its ids): ` +
        `question ${index + 1} ("${quoted}")`,
        { question_index: index, document_id: unknown })
    }
  }

  /** The accuracy trend as last read. */
  trend (): AccuracyTrend {
    return this.latestTrend
  }

  /**
   * Reads the accuracy trend from the database: a run another instance (or the CLI)
   * stored counts too. The alerts call it at each evaluation.
   */
  async refreshTrend (): Promise<AccuracyTrend> {
    this.latestTrend = await this.store.latestRuns()
    this.options.onTrend?.(this.latestTrend)
    return this.latestTrend
  }
}
