// What a question gets, before anything is written: a small-talk reply, an answer from the best
// passage, or no_answer, with the evidence behind the choice (logged and put on the turn's span).
// The chat turn and `npm run bench:answers` both decide through here.
import { answerWeightsFor, decideAnswer, type AnswerDecision, type AnswerWeights } from '../search/answer-decision.js'
import type { AnswerEvidence, SearchEngine, SearchHit } from '../search/search-engine.js'
import { scrub } from '../logging/scrubber.js'
import { smallTalkOf, type SmallTalk } from './small-talk.js'

const MARKUP_TAG = /<\/?[A-Za-z][^<>]*>/g

/**
 * The question without markup, which is not what it is about: "<script>alert(1)</script>" would
 * match a passage on alerts. Script and style elements go whole (found with indexOf, so that
 * crafted text cannot make it backtrack), other tags leave their text.
 */
export function withoutMarkup (question: string): string {
  const lower = question.toLowerCase()
  const element = /<(script|style)\b/g
  let kept = ''
  let from = 0
  for (let match = element.exec(lower); match !== null; match = element.exec(lower)) {
    kept += `${question.slice(from, match.index)} `
    const close = lower.indexOf(`</${match[1]!}`, match.index)
    const end = close < 0 ? -1 : lower.indexOf('>', close)
    from = end < 0 ? question.length : end + 1
    element.lastIndex = from
  }
  return `${kept}${question.slice(from)}`.replace(MARKUP_TAG, ' ')
}

const PLACEHOLDER = /\[[A-Z_]+\]/g

// The words that hand a detail over, just before the scrubber's placeholder: "my email is [EMAIL]",
// "phone: [PHONE]", "you can call me on [PHONE]", "I'm [NAME]". A detail named without "is" or a
// colon stays: in "how do I update my email [EMAIL]?" the email is the question.
const DETAIL = String.raw`e-?mail(?: address)?|(?:mobile |phone |cell )?number|phone|mobile|cell|` +
  String.raw`tel(?:ephone)?|name|(?:home |postal )?address|post ?code|zip(?: code)?|card(?: number)?`
const HANDING_OVER = [
  String.raw`(?:\b(?:my|our|the)\s+)?\b(?:${DETAIL})\s*(?:\bis\b|[:=])`,
  String.raw`(?:\byou can\s+|\bplease\s+)?\b(?:call|ring|text|reach|contact|e-?mail|write to)\s+` +
    String.raw`(?:me|us)(?:\s+(?:on|at|via))?`,
  String.raw`\b(?:i'?m|i am|i live at|send it to)`
]
const HANDED_OVER = new RegExp(String.raw`(?:${HANDING_OVER.join('|')})\s*(\[[A-Z_]+\])`, 'gi')

/**
 * The question without the personal data it holds, which is not what it asks about: the words of
 * "I'm John Miller, call me on +44 7700 900123, I want a refund" that no passage holds read to the
 * decision as a subject the knowledge base lacks, and it refused. The scrubber finds them; the
 * placeholders it wrote go too ("[EMAIL]" is no question about email), with the words that hand
 * them over ("my email is [EMAIL] and my phone is [PHONE]" turned an answer into a refusal); not
 * what the user typed ("why do emails say [EXTERNAL]?").
 */
export function withoutPersonalData (question: string): string {
  const scrubbed = scrub(question)
  if (scrubbed === question) return question
  const typed = new Set(question.match(PLACEHOLDER))
  return scrubbed
    .replace(HANDED_OVER, (words, placeholder: string) => typed.has(placeholder) ? words : ' ')
    .replace(PLACEHOLDER, placeholder => typed.has(placeholder) ? placeholder : ' ')
}

/** A searched question: answered or not, and why. */
export interface SearchDecision {
  kind: 'answer' | 'no_answer'
  hits: SearchHit[]
  evidence: AnswerEvidence
  decision: AnswerDecision
  /** What an answer quotes of the best passage. */
  quote: string
}

export interface SmallTalkDecision { kind: 'smalltalk', hits: [], smallTalk: SmallTalk }

export type ReplyDecision = SearchDecision | SmallTalkDecision

export interface ReplyDecisionOptions {
  model?: AnswerWeights
  /** Collections whose documents may answer; all when omitted. */
  collections?: ReadonlySet<string>
  /** How many documents to return as sources. */
  k?: number
  /**
   * Runs the search and its decision for a caller that watches them
   * (the turn: search/retrieval.ts).
   */
  observe?: (decide: () => SearchDecision) => SearchDecision
}

export function decideReply (
  engine: SearchEngine,
  question: string,
  options: ReplyDecisionOptions = {}
): ReplyDecision {
  const smallTalk = smallTalkOf(question)
  if (smallTalk !== undefined) return { kind: 'smalltalk', hits: [], smallTalk }
  const decide = (): SearchDecision => decideFromSearch(engine, question, options)
  return options.observe === undefined ? decide() : options.observe(decide)
}

/**
 * One question through the whole decision, so that what it builds on first use (the small talk's
 * patterns, the everyday words, the other region's spellings) is built before the first turn, not
 * in it: the first turn's search took 25 ms, the next ones' under 1 ms. The server calls it before
 * it listens.
 */
export function warmUpReplyDecision (engine: SearchEngine): void {
  decideReply(engine, 'Hi, what colour is the sky on Sunday mornings?')
}

/** A question's search and the decision to answer it from the best passage (no small-talk check). */
export function decideFromSearch (
  engine: SearchEngine,
  question: string,
  options: ReplyDecisionOptions = {}
): SearchDecision {
  const { hits, evidence, quote } = engine.searchWithEvidence(
    withoutPersonalData(withoutMarkup(question)), options.k ?? 3, options.collections
  )
  const decision = decideAnswer(evidence, options.model ?? answerWeightsFor(engine))
  const kind = decision.answer && hits.length > 0 ? 'answer' : 'no_answer'
  return { kind, hits, evidence, decision, quote }
}
