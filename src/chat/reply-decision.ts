// What a question gets, before anything is written: a small-talk reply, an answer from the best
// passage, or no_answer, with the evidence behind the choice (logged and put on the turn's span).
// The chat turn and `npm run bench:answers` both decide through here.
import { decideAnswer, DEFAULT_ANSWER_MODEL, type AnswerDecision, type AnswerModel } from '../search/answer-decision.js'
import type { AnswerEvidence, SearchEngine, SearchHit } from '../search/search-engine.js'
import { smallTalkOf, type SmallTalk } from './small-talk.js'

const MARKUP_TAG = /<\/?[A-Za-z][^<>]*>/g

export interface ReplyDecision {
  kind: 'answer' | 'no_answer' | 'smalltalk'
  hits: SearchHit[]
  smallTalk?: SmallTalk
  evidence?: AnswerEvidence
  decision?: AnswerDecision
}

export interface ReplyDecisionOptions {
  model?: AnswerModel
  /** Collections whose documents may answer; all when omitted. */
  collections?: ReadonlySet<string>
  /** How many documents to return as sources. */
  k?: number
}

export function decideReply (engine: SearchEngine, question: string, options: ReplyDecisionOptions = {}): ReplyDecision {
  const smallTalk = smallTalkOf(question)
  return smallTalk !== undefined ? { kind: 'smalltalk', hits: [], smallTalk } : decideFromSearch(engine, question, options)
}

/** A question's search and the decision to answer it from the best passage (no small-talk check). */
export function decideFromSearch (engine: SearchEngine, question: string, options: ReplyDecisionOptions = {}): ReplyDecision {
  // Markup is not what a question is about: "<script>" would match a passage that mentions scripts.
  const { hits, evidence } = engine.searchWithEvidence(question.replace(MARKUP_TAG, ' '), options.k ?? 3, options.collections)
  const decision = decideAnswer(evidence, options.model ?? DEFAULT_ANSWER_MODEL)
  return { kind: decision.answer && hits.length > 0 ? 'answer' : 'no_answer', hits, evidence, decision }
}
