// Whether the knowledge base answers a question: a small logistic model over evidence that does not
// grow with the size of the knowledge base (a raw BM25 score does, so a fixed score threshold that
// suits 50 documents refuses too little at 5,000). Its few weights were fitted by
// `npm run bench:answers -- --fit` on the train part of an FAQ collection only (see bench/answers.ts).
import type { AnswerEvidence } from './search-engine.js'

/** The evidence the model reads, in a fixed order. */
export const FEATURES = [
  'coverage', 'unseen', 'mutual', 'relativeScore', 'similarity'
] as const satisfies ReadonlyArray<keyof AnswerEvidence>
export type Feature = typeof FEATURES[number]

export interface AnswerWeights {
  intercept: number
  weights: Readonly<Record<Feature, number>>
  /** Answer when the model's probability reaches this. */
  threshold: number
}

/** For a search engine that weighs meaning (the default): words and meaning together. */
export const DEFAULT_ANSWER_WEIGHTS: Readonly<AnswerWeights> = Object.freeze({
  intercept: -9.73,
  weights: Object.freeze({ coverage: 4.96, unseen: -1.44, mutual: 7.28, relativeScore: 5.87, similarity: 6.43 }),
  threshold: 0.5
})

/**
 * For a search engine with SEARCH_WORD_VECTORS off: the model fitted before word vectors, without
 * `similarity` (`bench:answers -- --words-only` measures it).
 */
export const WORDS_ONLY_ANSWER_WEIGHTS: Readonly<AnswerWeights> = Object.freeze({
  intercept: -4.64,
  weights: Object.freeze({ coverage: 4.77, unseen: -2.26, mutual: 9.53, relativeScore: 6.38, similarity: 0 }),
  threshold: 0.5
})

/** The model fitted for the evidence this search engine gives. */
export function answerWeightsFor (searchEngine: { weighsMeaning: boolean }): Readonly<AnswerWeights> {
  return searchEngine.weighsMeaning ? DEFAULT_ANSWER_WEIGHTS : WORDS_ONLY_ANSWER_WEIGHTS
}

/**
 * Why a question was refused before the model was read (its confidence is then 0): no word of the
 * question in the passage, or a question of everyday words alone that shares none with the entry's
 * question or its phrasings.
 */
export const REFUSAL_RULES = ['no_shared_word', 'everyday_words'] as const
export type RefusalRule = typeof REFUSAL_RULES[number]

export interface AnswerDecision {
  answer: boolean
  /** The model's probability that the best passage answers the question (0 to 1). */
  confidence: number
  /** Set when a rule refused the question before the model was read. */
  refusedBy?: RefusalRule
}

/** The evidence's features as the model reads them, in FEATURES' order. */
export function features (evidence: AnswerEvidence): number[] {
  return FEATURES.map(name => evidence[name])
}

export function decideAnswer (evidence: AnswerEvidence, model: AnswerWeights = DEFAULT_ANSWER_WEIGHTS): AnswerDecision {
  // A passage that holds none of the question's own words (its title and phrasings neither) is
  // not answered from on meaning and scores alone: on the benchmark's 9,700 turns every such answer
  // was wrong ("how do I view traces?" from a dental FAQ's new-patient entry, at 0.503).
  if (evidence.terms === 0 || evidence.coverage === 0) {
    return { answer: false, confidence: 0, refusedBy: 'no_shared_word' }
  }
  // Nor is a question of everyday words alone that shares none with the entry's question or its
  // phrasings: "what time is it?" was answered from an entry on RSV at 0.998 (its word "time"), as
  // a one-word question ("refunds") is; on bench:answers' train parts every such answer was wrong.
  if (evidence.everyday === 1 && evidence.questionRecall === 0) {
    return { answer: false, confidence: 0, refusedBy: 'everyday_words' }
  }
  const logit = FEATURES.reduce((sum, name) => sum + model.weights[name] * evidence[name], model.intercept)
  const confidence = 1 / (1 + Math.exp(-logit))
  return { answer: confidence >= model.threshold, confidence: Math.round(confidence * 1000) / 1000 }
}

const snakeCase = (name: string): string => name.replace(/[A-Z]/g, letter => `_${letter.toLowerCase()}`)
const round3 = (value: number): number => Math.round(value * 1000) / 1000

/**
 * Why a question was answered or refused, as the turn's log line and span carry it: the confidence
 * against the threshold, the rule that refused it if one did, and every measure the model read
 * (snake_case, as log fields are named).
 */
export function explainDecision (
  evidence: AnswerEvidence,
  decision: AnswerDecision,
  model: AnswerWeights = DEFAULT_ANSWER_WEIGHTS
): { confidence: number, threshold: number, refused_by?: RefusalRule, [measure: string]: number | string | undefined } {
  const measures = Object.fromEntries(Object.entries(evidence).map(([name, value]) => [snakeCase(name), round3(value)]))
  const rule = decision.refusedBy === undefined ? {} : { refused_by: decision.refusedBy }
  return { confidence: decision.confidence, threshold: model.threshold, ...rule, ...measures }
}
