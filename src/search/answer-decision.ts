// Whether the knowledge base answers a question: a small logistic model over evidence that does not
// grow with the size of the knowledge base (a raw BM25 score does, so a fixed score threshold that
// suits 50 documents refuses too little at 5,000). Its few weights were fitted by
// `npm run bench:answers -- --fit` on development collections' train splits only (see bench/answers.ts).
import type { AnswerEvidence } from './search-engine.js'

export interface AnswerModel {
  intercept: number
  coverage: number
  relativeScore: number
  lead: number
  /** Answer when the model's probability reaches this. */
  threshold: number
}

export const DEFAULT_ANSWER_MODEL: Readonly<AnswerModel> = Object.freeze({
  intercept: -5.71,
  coverage: 10.97,
  relativeScore: 3.43,
  lead: 0.16,
  threshold: 0.5
})

export interface AnswerDecision {
  answer: boolean
  /** The model's probability that the best passage answers the question (0 to 1). */
  confidence: number
}

/** The evidence's features as the model reads them, in a fixed order. */
export function features (evidence: AnswerEvidence): number[] {
  return [evidence.coverage, evidence.relativeScore, evidence.lead]
}

export function decideAnswer (evidence: AnswerEvidence, model: AnswerModel = DEFAULT_ANSWER_MODEL): AnswerDecision {
  if (evidence.terms === 0) return { answer: false, confidence: 0 }
  const [coverage, relativeScore, lead] = features(evidence) as [number, number, number]
  const logit = model.intercept + model.coverage * coverage + model.relativeScore * relativeScore + model.lead * lead
  const confidence = 1 / (1 + Math.exp(-logit))
  return { answer: confidence >= model.threshold, confidence: Math.round(confidence * 1000) / 1000 }
}
