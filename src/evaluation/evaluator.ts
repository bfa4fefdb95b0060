// Runs test questions against the knowledge base as the chat turn would decide them: the same
// decideReply, the same answering collections and the same answer threshold, so the accuracy a
// team watches is the accuracy its users get (a follow-up's earlier question aside: each test
// question stands alone). CPU only, no database: a run of thousands takes well under a second.
import { decideReply } from '../chat/reply-decision.js'
import type { AnswerWeights } from '../search/answer-decision.js'
import type { SearchEngine } from '../search/search-engine.js'
import type { Counts, Outcome, ResultRow } from './evaluation-schemas.js'
import type { TestQuestion } from './question-set.js'

export interface EvaluationOptions {
  /** The collections whose documents answer questions now (answeringCollections); all when undefined. */
  collections?: ReadonlySet<string>
  /** The chat turn's answer weights (its threshold is ANSWER_MIN_CONFIDENCE). */
  model?: AnswerWeights
}

export interface Evaluation {
  counts: Counts
  accuracy: number
  answerRate: number | null
  /** Documents in the answering collections. */
  documents: number
  results: ResultRow[]
}

export function outcomeOf (expected: readonly string[], answeredFrom: string | undefined): Outcome {
  if (expected.length === 0) return answeredFrom === undefined ? 'out_of_scope_refused' : 'wrong_document'
  if (answeredFrom === undefined) return 'refused_but_answerable'
  return expected.includes(answeredFrom) ? 'answered_right' : 'wrong_document'
}

export function documentsAnswering (engine: SearchEngine, collections: ReadonlySet<string> | undefined): number {
  if (collections === undefined) return engine.documentCount
  let count = 0
  for (const [name, documents] of engine.collections()) if (collections.has(name)) count += documents
  return count
}

export function evaluate (
  engine: SearchEngine,
  questions: readonly TestQuestion[],
  options: EvaluationOptions = {}
): Evaluation {
  const counts: Counts = { answered_right: 0, wrong_document: 0, refused_but_answerable: 0, out_of_scope_refused: 0 }
  let answerable = 0
  let answeredAnswerable = 0
  const results = questions.map((question): ResultRow => {
    const decided = decideReply(engine, question.question, { collections: options.collections, model: options.model })
    const answeredFrom = decided.kind === 'answer' ? decided.hits[0]?.docId : undefined
    const outcome = outcomeOf(question.expected, answeredFrom)
    counts[outcome]++
    if (question.expected.length > 0) {
      answerable++
      if (answeredFrom !== undefined) answeredAnswerable++
    }
    return {
      id: question.id,
      question: question.question,
      expected: question.expected,
      outcome,
      kind: decided.kind,
      doc_id: decided.hits[0]?.docId ?? null,
      confidence: decided.kind === 'smalltalk' ? null : Math.round(decided.decision.confidence * 1e4) / 1e4
    }
  })
  return {
    counts,
    accuracy: questions.length === 0 ? 0 : (counts.answered_right + counts.out_of_scope_refused) / questions.length,
    answerRate: answerable === 0 ? null : answeredAnswerable / answerable,
    documents: documentsAnswering(engine, options.collections),
    results
  }
}
